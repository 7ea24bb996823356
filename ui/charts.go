package ui

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/spiffy/spiffy/app/views"
)

// The dashboard's chart: clicks, leads and purchases per day as one inline
// SVG drawn on the server, so it shows without JavaScript and prints. The
// three series differ by orders of magnitude (a few purchases per hundred
// clicks), so each gets its own panel and scale over a shared day axis
// rather than one axis on which purchases would be a flat line. Each bar
// carries a <title>, which browsers show on hover.

// Chart geometry, in SVG user units (the SVG scales to the card's width).
const (
	chartW      = 760.0
	chartLeft   = 92.0 // series name and scale
	chartRight  = 8.0
	chartPanelH = 64.0
	chartGap    = 22.0 // between panels: the next panel's label sits here
	chartTopPad = 18.0
	chartAxisH  = 22.0 // day labels under the last panel
)

type chartSeries struct {
	name, class string
	value       func(views.DashboardDay) int64
}

func dashboardSeries() [3]chartSeries {
	return [3]chartSeries{
		{"Clicks", "chart-clicks", func(d views.DashboardDay) int64 { return d.Clicks }},
		{"Leads", "chart-leads", func(d views.DashboardDay) int64 { return d.Leads }},
		{"Purchases", "chart-purchases", func(d views.DashboardDay) int64 { return d.Purchases }},
	}
}

// dayChart renders the per-day chart of days (oldest first).
func dayChart(days []views.DashboardDay) template.HTML {
	if len(days) == 0 {
		return ""
	}
	n := float64(len(days))
	plotW := chartW - chartLeft - chartRight
	step := plotW / n
	gap := min(step*0.2, 2)
	series := dashboardSeries()
	height := chartTopPad + float64(len(series))*(chartPanelH+chartGap) - chartGap + chartAxisH
	var b strings.Builder
	first, last := days[0].Day.Format(isoDate), days[len(days)-1].Day.Format(isoDate)
	fmt.Fprintf(&b, `<svg class="day-chart" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-labelledby="day-chart-title" xmlns="http://www.w3.org/2000/svg">`, chartW, height)
	fmt.Fprintf(&b, `<title id="day-chart-title">Clicks, leads and purchases per day, %s to %s</title>`, html.EscapeString(first), html.EscapeString(last))
	for si, s := range series {
		top := chartTopPad + float64(si)*(chartPanelH+chartGap)
		base := top + chartPanelH
		var peak, total int64
		for _, d := range days {
			v := s.value(d)
			peak = max(peak, v)
			total += v
		}
		fmt.Fprintf(&b, `<g class="%s">`, s.class)
		fmt.Fprintf(&b, `<text class="chart-name" x="0" y="%.1f">%s</text>`, top+12, s.name)
		fmt.Fprintf(&b, `<text class="chart-scale" x="0" y="%.1f">%s total</text>`, top+28, thousands(total))
		fmt.Fprintf(&b, `<text class="chart-scale" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, top+8, thousands(peak))
		fmt.Fprintf(&b, `<text class="chart-scale" x="%.1f" y="%.1f" text-anchor="end">0</text>`, chartLeft-6, base)
		fmt.Fprintf(&b, `<line class="chart-grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, chartLeft, top, chartW-chartRight, top)
		fmt.Fprintf(&b, `<line class="chart-base" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, chartLeft, base, chartW-chartRight, base)
		for i, d := range days {
			v := s.value(d)
			h := 0.0
			if peak > 0 {
				h = float64(v) / float64(peak) * chartPanelH
			}
			if v > 0 && h < 1 {
				h = 1 // a day with any activity stays visible
			}
			x := chartLeft + float64(i)*step
			// The hover target spans the panel's height so small bars are
			// easy to point at; the visible bar is drawn inside it.
			word := strings.ToLower(s.name)
			if v == 1 {
				word = strings.TrimSuffix(word, "s")
			}
			fmt.Fprintf(&b, `<g><title>%s: %s %s</title><rect class="chart-hit" x="%.2f" y="%.1f" width="%.2f" height="%.1f"/>`,
				d.Day.Format(isoDate), thousands(v), word, x, top, step, chartPanelH)
			if h > 0 {
				fmt.Fprintf(&b, `<rect class="chart-bar" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>`, x+gap/2, base-h, step-gap, h)
			}
			b.WriteString(`</g>`)
		}
		b.WriteString(`</g>`)
	}
	// Day labels: first, last and a few in between, never crowded.
	axisY := height - 6
	labels := min(len(days), 7)
	for k := 0; k < labels; k++ {
		i := 0
		if labels > 1 {
			i = k * (len(days) - 1) / (labels - 1)
		}
		anchor := "middle"
		switch {
		case k == 0:
			anchor = "start"
		case k == labels-1 && labels > 1:
			anchor = "end"
		}
		x := chartLeft + (float64(i)+0.5)*step
		if anchor == "start" {
			x = chartLeft
		} else if anchor == "end" {
			x = chartW - chartRight
		}
		fmt.Fprintf(&b, `<text class="chart-day" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, axisY, anchor, days[i].Day.Format(isoMonthDay))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every dynamic string above is a number, a fixed name or a formatted date
}
