package demo

import "testing"

func TestASCIIFoldKeepsLetters(t *testing.T) {
	for in, want := range map[string]string{
		"José Müller": "Jose Muller", "García": "Garcia", "Chloé": "Chloe", "Tomás": "Tomas",
		"Strauß": "Strauss", "Søren Ørsted": "Soren Orsted", "Łukasz": "Lukasz", "Ærø": "AEro",
		"Ðorđe": "Dorde", "Smith": "Smith",
	} {
		if got := asciiFold(in); got != want {
			t.Errorf("asciiFold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := demoEmail("José", "Müller", "", "example.com"); got != "jose.muller@example.com" {
		t.Errorf("demoEmail = %q, want jose.muller@example.com", got)
	}
}
