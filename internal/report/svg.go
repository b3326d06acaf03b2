package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// PlotOptions tune WriteSVG.
type PlotOptions struct {
	Title         string // default "Throughput"
	Width, Height int    // pixels; default: 640x430 plot area plus margins and legend
}

// Series is one line of a plot: a rate over time.
type Series struct {
	Name   string
	Points []Point
	Total  bool // drawn thicker, in black
}

// Point is a rate over [Start, End].
type Point struct {
	Start, End time.Duration
	BPS        float64
}

// SeriesOf extracts the plot lines of a result: one per subflow (or per
// stream when there are no subflow figures) and the total.
func SeriesOf(r iperf.Result) []Series {
	var order []string
	byName := map[string]*Series{}
	add := func(name string, p Point) {
		s, ok := byName[name]
		if !ok {
			s = &Series{Name: name}
			byName[name] = s
			order = append(order, name)
		}
		s.Points = append(s.Points, p)
	}
	total := Series{Name: "total", Total: true}
	for _, iv := range r.Intervals {
		if len(iv.Subflows) > 0 {
			for _, sf := range iv.Subflows {
				add(fmt.Sprintf("[%d] %s", sf.Stream, subflowName(sf.SubflowStat)), Point{iv.Start, iv.End, iv.BitsPerSecond(sf.Bytes)})
			}
		} else if len(iv.Streams) > 1 {
			for _, st := range iv.Streams {
				add(fmt.Sprintf("stream %d", st.ID), Point{iv.Start, iv.End, iv.BitsPerSecond(st.Bytes)})
			}
		}
		total.Points = append(total.Points, Point{iv.Start, iv.End, iv.BitsPerSecond(iv.Sum.Bytes)})
	}
	out := make([]Series, 0, len(order)+1)
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return append(out, total)
}

// NiceTicks returns about n round tick values from 0 to at least max
// (steps of 1, 2 or 5 times a power of ten).
func NiceTicks(max float64, n int) []float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) || n < 1 {
		return []float64{0, 1}
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= max-step*1e-9 {
			break
		}
	}
	return ticks
}

// rateUnit picks a unit for the y axis.
func rateUnit(max float64) (div float64, name string) {
	switch {
	case max >= 1e9:
		return 1e9, "Gbit/s"
	case max >= 1e6:
		return 1e6, "Mbit/s"
	case max >= 1e3:
		return 1e3, "Kbit/s"
	}
	return 1, "bit/s"
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}

// esc escapes text for SVG.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// trimNum prints a tick label without useless zeros.
func trimNum(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// WriteSVG draws the throughput of r over time, per subflow and in total,
// with axes, grid and a legend, as a standalone SVG document.
func WriteSVG(w io.Writer, r iperf.Result, o PlotOptions) error {
	return WriteSeriesSVG(w, SeriesOf(r), o)
}

// WriteSeriesSVG draws arbitrary series (see WriteSVG).
func WriteSeriesSVG(w io.Writer, series []Series, o PlotOptions) error {
	if o.Title == "" {
		o.Title = "Throughput"
	}
	// The legend sits right of the plot; size it to the longest name
	// (about 7 px per character at 12 px).
	longest := 0
	for _, s := range series {
		if n := len([]rune(s.Name)); n > longest {
			longest = n
		}
	}
	right := 60 + 7*longest
	if right < 160 {
		right = 160
	}
	const left, top, bottom = 80, 50, 60
	if o.Width == 0 {
		o.Width = left + 640 + right
	}
	if o.Height == 0 {
		o.Height = 540
	}
	pw, ph := float64(o.Width-left-right), float64(o.Height-top-bottom)
	if pw < 50 || ph < 50 {
		return fmt.Errorf("report: plot %dx%d is too small: use at least %dx%d pixels", o.Width, o.Height, left+right+50, top+bottom+50)
	}
	var maxT time.Duration
	var maxR float64
	for _, s := range series {
		for _, p := range s.Points {
			if p.End > maxT {
				maxT = p.End
			}
			if p.BPS > maxR {
				maxR = p.BPS
			}
		}
	}
	div, unit := rateUnit(maxR)
	yt := NiceTicks(maxR/div, 5)
	xt := NiceTicks(maxT.Seconds(), 8)
	ymax, xmax := yt[len(yt)-1], xt[len(xt)-1]
	x := func(t time.Duration) float64 { return left + t.Seconds()/xmax*pw }
	y := func(bps float64) float64 { return top + ph - bps/div/ymax*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", o.Width, o.Height, o.Width, o.Height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>`+"\n", left, esc(o.Title))
	// Grid and tick labels.
	for _, v := range yt {
		yy := top + ph - v/ymax*ph
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, yy, left+pw, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, yy, trimNum(v))
	}
	for _, v := range xt {
		xx := left + v/xmax*pw
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", xx, top, xx, top+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", xx, top+ph+18, trimNum(v))
	}
	// Axes and their names.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="black"/>`+"\n", left, top, left, top+ph)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, top+ph, left+pw, top+ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">time (s)</text>`+"\n", left+pw/2, top+ph+42)
	fmt.Fprintf(&b, `<text x="20" y="%.1f" text-anchor="middle" transform="rotate(-90 20 %.1f)">throughput (%s)</text>`+"\n", top+ph/2, top+ph/2, unit)
	if maxT == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#888">no interval data (run with -i)</text>`+"\n", left+pw/2, top+ph/2)
	}
	// Lines: steps over each interval.
	ci := 0
	for i, s := range series {
		color, width := "black", 2.5
		if !s.Total {
			color, width = palette[ci%len(palette)], 1.5
			ci++
		}
		if len(s.Points) > 0 {
			fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="%.1f" points="`, color, width)
			for j, p := range s.Points {
				if j > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%.1f,%.1f %.1f,%.1f", x(p.Start), y(p.BPS), x(p.End), y(p.BPS))
			}
			fmt.Fprintf(&b, `"><title>%s</title></polyline>`+"\n", esc(s.Name))
		}
		// Legend entry.
		ly := float64(top + 10 + 20*i)
		lx := float64(left) + pw + 20
		fmt.Fprintf(&b, `<line class="legend" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`+"\n", lx, ly, lx+24, ly, color, width)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", lx+30, ly, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
