//go:build browser

package browser

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The merchant's brand in a real browser: the admin fills Settings → Brand
// (a logo uploaded from disk, a colour from the colour input), then the
// partner sign-in and join pages show the logo (loaded, not broken), the
// name, the support address and buttons in the accent with readable text,
// all through the stylesheet (no inline style or script).

func TestBrandSetInSettingsShowsOnPartnerPages(t *testing.T) {
	s := StartSpiffy(t)
	if _, err := s.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	prg := s.Program("Acme Sneakers")

	logo := filepath.Join(t.TempDir(), "acme.png")
	img := image.NewRGBA(image.Rect(0, 0, 160, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 160; x++ {
			img.Set(x, y, color.RGBA{11, 114, 133, 255})
		}
	}
	f, err := os.Create(logo)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()

	b := NewBrowser(t, 90*time.Second)
	mvGo(t, b, `location.pathname === "/login"`, chromedp.Navigate(s.URL+"/settings/brand"))
	mvGo(t, b, `location.pathname === "/settings/brand"`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "owner@shop.example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct-horse"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))

	mvGo(t, b, `document.body.innerText.includes("Your brand is saved")`,
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Acme Outdoor"),
		chromedp.SetValue(chromedp.CSS(`input[name="accent"]`), "#0b7285"),
		chromedp.Click(chromedp.CSS(`input[name="no_accent"]`)), // checked while no accent is set
		chromedp.SendKeys(chromedp.CSS(`input[name="terms_url"]`), "https://acme.example/partner-terms"),
		chromedp.SendKeys(chromedp.CSS(`input[name="support_email"]`), "partners@acme.example"),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name="logo"]`), []string{logo}),
		chromedp.Click(chromedp.CSS(`form#brand button[type="submit"]`)))
	if w := mvEval[int](t, b, `document.querySelector(".brand-preview img").naturalWidth`); w != 160 {
		t.Fatalf("the logo preview is %d px wide, want 160", w)
	}
	b.Screenshot("settings-brand")

	// Signed out, the partner pages carry the brand.
	for _, path := range []string{"/portal/login", "/join/" + prg.ID} {
		mvGo(t, b, `location.pathname === "`+path+`"`, chromedp.Navigate(s.URL+path))
		if w := mvEval[int](t, b, `document.querySelector(".brand-logo").naturalWidth`); w != 160 {
			t.Errorf("%s: the logo did not load (%d px)", path, w)
		}
		text := mvEval[string](t, b, `document.body.innerText`)
		for _, want := range []string{"Acme Outdoor", "partners@acme.example", "Powered by Spiffy"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if rest := strings.ReplaceAll(text, "Powered by Spiffy", ""); strings.Contains(rest, "Spiffy") {
			t.Errorf("%s names Spiffy outside \"Powered by\":\n%s", path, text)
		}
		bg := mvEval[string](t, b, `getComputedStyle(document.querySelector(".btn-primary")).backgroundColor`)
		fg := mvEval[string](t, b, `getComputedStyle(document.querySelector(".btn-primary")).color`)
		if bg != "rgb(11, 114, 133)" || fg != "rgb(255, 255, 255)" {
			t.Errorf("%s: the button is %s on %s, want white on the accent", path, fg, bg)
		}
		b.Screenshot(strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"))
	}
	// /join's terms box links to the terms in a new tab.
	href := mvEval[string](t, b, `document.querySelector(".portal-check a").href`)
	target := mvEval[string](t, b, `document.querySelector(".portal-check a").target`)
	rel := mvEval[string](t, b, `document.querySelector(".portal-check a").rel`)
	if href != "https://acme.example/partner-terms" || target != "_blank" || !strings.Contains(rel, "noopener") {
		t.Errorf("terms link %q target %q rel %q", href, target, rel)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
