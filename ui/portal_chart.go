package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spiffy/spiffy/app/views"
)

// The program page's per-day chart: an inline SVG drawn on the server (no
// chart library, no script). Clicks are bars; leads and purchases are lines
// on the same scale. The SVG stretches to the card's width
// (preserveAspectRatio="none"), so it holds only rectangles and lines with
// non-scaling strokes; the labels are HTML around it, which does not stretch.

const (
	chartStep   = 10.0 // viewBox units per day
	chartHeight = 100.0
	chartTop    = 6.0 // headroom above the tallest value
)

type chartView struct {
	Width                     float64
	Height                    float64
	Bars                      []chartBar
	LeadsLine, PurchasesLine  string // polyline points
	Max                       int64
	FirstDay, MidDay, LastDay string
	Empty                     bool
}

type chartBar struct {
	X, Y, W, H float64
	Title      string
}

func newChart(days []views.PortalDay) chartView {
	v := chartView{Width: chartStep * float64(max(len(days), 1)), Height: chartHeight, Empty: true}
	for _, d := range days {
		v.Max = max(v.Max, d.Clicks, d.Leads, d.Purchases)
	}
	if len(days) == 0 {
		return v
	}
	v.Empty = v.Max == 0
	scale := 0.0
	if v.Max > 0 {
		scale = (chartHeight - chartTop) / float64(v.Max)
	}
	var leads, purchases strings.Builder
	for i, d := range days {
		x := float64(i) * chartStep
		h := float64(d.Clicks) * scale
		v.Bars = append(v.Bars, chartBar{
			X: x + 1.5, W: chartStep - 3, Y: chartHeight - h, H: h,
			Title: fmt.Sprintf("%s: %s, %s, %s", d.Date.Format(isoDate),
				plural(d.Clicks, "click"), plural(d.Leads, "lead"), plural(d.Purchases, "purchase")),
		})
		mid := x + chartStep/2
		fmt.Fprintf(&leads, "%.1f,%.1f ", mid, chartHeight-float64(d.Leads)*scale)
		fmt.Fprintf(&purchases, "%.1f,%.1f ", mid, chartHeight-float64(d.Purchases)*scale)
	}
	v.LeadsLine, v.PurchasesLine = strings.TrimSpace(leads.String()), strings.TrimSpace(purchases.String())
	label := func(i int) string { return days[i].Date.Format(isoMonthDay) }
	v.FirstDay, v.LastDay = label(0), label(len(days)-1)
	if len(days) > 4 {
		v.MidDay = label(len(days) / 2)
	}
	return v
}

func plural(n int64, word string) string {
	s := strconv.FormatInt(n, 10) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}
