package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
)

// Two separate sessions: the merchant's admin session and the affiliate
// portal's. They use different cookie names and different keys derived from
// the app's session secret, so neither cookie can ever open the other side.
//
// Who is signed in is not in the cookie: it holds a random session id
// whose record in the store (app.StartSession) names the account and the
// expiry. Signing out deletes the account's records, so a copied cookie
// stops working. The encrypted cookie still carries what belongs to this
// browser alone: the CSRF token, flashes and one-time values.

const (
	adminCookie  = "spiffy_admin"
	portalCookie = "spiffy_portal"
	// sessionMaxAge bounds a session's life: the signed timestamp inside
	// the cookie is checked on every request.
	sessionMaxAge = 7 * 24 * 3600

	keySessionID = "sid"
	keyCSRF      = "csrf"
)

// sessionKind is one of the two session cookies.
type sessionKind struct {
	name  string
	kind  string // app.SessionAdmin or app.SessionAffiliate
	store *sessions.CookieStore
	app   *app.App
}

func newSessionKind(a *app.App, name, kind string, secret []byte, secure bool) *sessionKind {
	hashKey := deriveKey(secret, name+"/hash", 64)
	blockKey := deriveKey(secret, name+"/block", 32)
	st := sessions.NewCookieStore(hashKey, blockKey)
	st.Options = &sessions.Options{Path: "/", MaxAge: sessionMaxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	st.MaxAge(sessionMaxAge)
	return &sessionKind{name: name, kind: kind, store: st, app: a}
}

// deriveKey expands the secret into a purpose-bound key (HMAC-SHA256 in
// counter mode), so one secret yields independent keys per cookie.
func deriveKey(secret []byte, purpose string, n int) []byte {
	var out []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(purpose))
		m.Write([]byte{i})
		out = m.Sum(out)
	}
	return out[:n]
}

// get returns the request's session of this kind; a cookie that fails
// verification (tampered, expired, other key) yields a fresh empty session.
func (k *sessionKind) get(c echo.Context) *sessions.Session {
	s, err := k.store.Get(c.Request(), k.name)
	if err != nil || s == nil {
		s, _ = k.store.New(c.Request(), k.name)
		s.IsNew = true
	}
	return s
}

func (k *sessionKind) save(c echo.Context, s *sessions.Session) error {
	return s.Save(c.Request(), c.Response())
}

// userID returns the signed-in user's id, or "": the cookie's session id
// must name a live session in the store. The answer is kept for the rest
// of the request.
func (k *sessionKind) userID(c echo.Context) string {
	memo := "ui.uid." + k.name
	if id, ok := c.Get(memo).(string); ok {
		return id
	}
	id := ""
	if sid, _ := k.get(c).Values[keySessionID].(string); sid != "" {
		acc, err := k.app.SessionAccount(k.kind, sid)
		switch {
		case err == nil:
			id = acc
		case !errors.Is(err, app.ErrUnauthorized):
			k.app.Log().Error("ui: read session", "err", err)
		}
	}
	c.Set(memo, id)
	return id
}

// signIn starts a session for the user in the store and puts its id in a
// fresh cookie (new CSRF token too: the old session's token must not
// survive a sign-in).
func (k *sessionKind) signIn(c echo.Context, userID string) error {
	sid, err := k.app.StartSession(k.kind, userID)
	if err != nil {
		return err
	}
	s := k.get(c)
	for key := range s.Values {
		delete(s.Values, key)
	}
	s.Values[keySessionID] = sid
	s.Values[keyCSRF] = newToken()
	c.Set("ui.uid."+k.name, userID)
	return k.save(c, s)
}

// signOut ends every session of the signed-in account (all its devices)
// and expires this browser's cookie.
func (k *sessionKind) signOut(c echo.Context) error {
	s := k.get(c)
	if sid, _ := s.Values[keySessionID].(string); sid != "" {
		if err := k.app.EndSessions(k.kind, sid); err != nil {
			return err
		}
	}
	c.Set("ui.uid."+k.name, "")
	s.Values = map[any]any{}
	s.Options.MaxAge = -1
	return k.save(c, s)
}

// flash stores a one-time message shown on the next page.
func (k *sessionKind) flash(c echo.Context, kind, msg string) {
	s := k.get(c)
	s.AddFlash(kind + "|" + msg)
	_ = k.save(c, s)
}

// Flash is a one-time notice shown at the top of a page.
type Flash struct {
	Kind    string // success | error | info
	Message string
}

func (k *sessionKind) takeFlashes(c echo.Context) []Flash {
	s := k.get(c)
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	_ = k.save(c, s)
	out := make([]Flash, 0, len(raw))
	for _, r := range raw {
		str, _ := r.(string)
		kind, msg, _ := strings.Cut(str, "|")
		out = append(out, Flash{Kind: kind, Message: msg})
	}
	return out
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("ui: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken returns the session's CSRF token, creating and saving one when
// the session has none yet (first visit to a sign-in form).
func (k *sessionKind) csrfToken(c echo.Context) string {
	s := k.get(c)
	tok, _ := s.Values[keyCSRF].(string)
	if tok == "" {
		tok = newToken()
		s.Values[keyCSRF] = tok
		_ = k.save(c, s)
	}
	return tok
}

// csrfField is the form field (or X-CSRF-Token header) carrying the token.
const csrfField = "csrf"

// csrfProtect refuses state-changing requests whose token does not match
// the session's. Safe methods pass, and make sure a token exists.
func (k *sessionKind) csrfProtect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want, _ := k.get(c).Values[keyCSRF].(string)
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue(csrfField)
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return &app.Error{Kind: app.KindForbidden, Code: "invalid_csrf_token",
				Message: "This form has expired or was sent from another site. Go back, reload the page and try again."}
		}
		return next(c)
	}
}
