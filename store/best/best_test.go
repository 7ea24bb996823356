package best

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKeepsWhatASortWould offers values in random order, with many
// ties on the first key, and keeps what sorting all of them would.
func TestKeepsWhatASortWould(t *testing.T) {
	type row struct{ score, id int }
	better := func(a, b row) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id)) }
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 10} {
		for _, total := range []int{0, 5, 10, 11, 10000} {
			var all []row
			for i := range total {
				all = append(all, row{score: rng.IntN(20), id: i})
			}
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			top := New(n, better)
			for _, r := range all {
				top.Offer(r)
			}
			slices.SortFunc(all, better)
			if want := all[:min(n, len(all))]; !slices.Equal(top.Items(), want) {
				t.Errorf("n %d of %d: kept %v, want %v", n, total, top.Items(), want)
			}
		}
	}
}
