package app_test

import (
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
)

// BenchmarkSessionAccount is what every signed-in page now pays to find
// its account: one read of the store.
func BenchmarkSessionAccount(b *testing.B) {
	env := apptest.New(b)
	adm, err := env.App.CreateAdmin("owner@shop.example.com", "correct-horse")
	if err != nil {
		b.Fatal(err)
	}
	id, err := env.App.StartSession(app.SessionAdmin, adm.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := env.App.SessionAccount(app.SessionAdmin, id); err != nil {
			b.Fatal(err)
		}
	}
}
