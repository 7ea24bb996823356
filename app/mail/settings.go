package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/config"
)

// SettingsFrom turns the config's smtp.* into the engine's settings.
func SettingsFrom(cfg config.Config) (Settings, error) {
	s := cfg.SMTP
	st := Settings{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
		FromAddress: s.FromAddress, Owner: OwnerName(cfg), TLS: s.TLS}
	if s.Host != "" && s.CAFile != "" {
		pool, err := LoadCAFile(s.CAFile)
		if err != nil {
			return st, err
		}
		st.RootCAs = pool
	}
	return st, nil
}

// OwnerName is the program owner's name in mail before Settings → Brand
// sets one: smtp.from's name, else the host of base_url.
func OwnerName(cfg config.Config) string { return brand.DefaultName(cfg) }

// One-click unsubscribe (RFC 8058). The token carries the affiliate's id
// and a MAC of it under the session secret, so it needs no stored record
// and works for as long as the secret stays the same.

func unsubscribeMAC(secret []byte, affiliateID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("spiffy/unsubscribe/" + affiliateID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// UnsubscribeToken is the token of an affiliate's unsubscribe link.
func UnsubscribeToken(secret []byte, affiliateID string) string {
	return affiliateID + "." + unsubscribeMAC(secret, affiliateID)
}

// UnsubscribeID checks an unsubscribe token and returns its affiliate's
// id (not yet checked to be a valid id).
func UnsubscribeID(secret []byte, token string) (string, bool) {
	id, mac, ok := strings.Cut(token, ".")
	return id, ok && subtle.ConstantTimeCompare([]byte(mac), []byte(unsubscribeMAC(secret, id))) == 1
}
