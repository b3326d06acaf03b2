package coupled

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

func TestLIAAlpha(t *testing.T) {
	// One path: alpha = w * (w/r^2) / (w/r)^2 = 1, plain Reno.
	near(t, "one path", LIAAlpha([]float64{17}, []float64{0.03}), 1, 1e-12)
	// Two equal paths: 20 * (10/r^2) / (20/r)^2 = 0.5.
	near(t, "two equal paths", LIAAlpha([]float64{10, 10}, []float64{0.02, 0.02}), 0.5, 1e-12)
	// w = (10, 20), rtt = (10, 40) ms: w/rtt^2 = (0.1, 0.0125) per ms^2,
	// sum w/rtt = 1 + 0.5 = 1.5, alpha = 30 * 0.1 / 2.25 = 1.3333.
	near(t, "w=(10,20) rtt=(10,40)", LIAAlpha([]float64{10, 20}, []float64{10, 40}), 4.0/3, 1e-12)
	// Units do not matter: the same in bytes and seconds.
	near(t, "bytes and seconds", LIAAlpha([]float64{14480, 28960}, []float64{0.01, 0.04}), 4.0/3, 1e-12)
	// Three paths w = (10, 10, 40), rtt = (10, 20, 40): w/rtt^2 = (0.1,
	// 0.025, 0.025), sum w/rtt = 1 + 0.5 + 1 = 2.5, alpha = 60*0.1/6.25 = 0.96.
	near(t, "three paths", LIAAlpha([]float64{10, 10, 40}, []float64{10, 20, 40}), 0.96, 1e-12)
	// Paths without an RTT take no part.
	near(t, "unmeasured path", LIAAlpha([]float64{10, 10}, []float64{0.02, 0}), 1, 1e-12)
	near(t, "nothing", LIAAlpha(nil, nil), 0, 0)

	// Increase for two equal paths of 10 packets: min(0.5/20, 1/10) = 0.025.
	near(t, "LIA increase equal", LIAIncrease([]float64{10, 10}, []float64{1, 1}, 0), 0.025, 1e-12)
	// w=(10,20) rtt=(10,40): path 0 min(1.3333/30, 1/10) = 0.04444; path 1
	// min(0.04444, 1/20 = 0.05) = 0.04444.
	near(t, "LIA increase path 0", LIAIncrease([]float64{10, 20}, []float64{10, 40}, 0), 4.0/90, 1e-12)
	// Very unequal: w=(100, 1) rtt=(100, 1): alpha = 101*1/(1+1)^2 = 25.25;
	// path 0: min(25.25/101=0.25, 0.01) = 0.01, capped by Reno's 1/w.
	near(t, "LIA increase capped", LIAIncrease([]float64{100, 1}, []float64{100, 1}, 0), 0.01, 1e-12)
}

func TestOLIAAlphas(t *testing.T) {
	out := make([]float64, 3)
	// w = (10, 20), rtt = (10, 10), l = (1000, 500): l/rtt^2 = (10, 5), so
	// path 0 is the best path, path 1 has the largest window; B\M = {0}:
	// alpha_0 = 1/(2*1) = 0.5, alpha_1 = -1/(2*1) = -0.5.
	w, rtt, l := []float64{10, 20}, []float64{10, 10}, []float64{1000, 500}
	OLIAAlphas(w, rtt, l, out)
	near(t, "alpha_0", out[0], 0.5, 1e-12)
	near(t, "alpha_1", out[1], -0.5, 1e-12)
	// Increases: sum w/rtt = 3; path 0: (10/100)/9 + 0.5/10 = 0.061111;
	// path 1: (20/100)/9 - 0.5/20 = -0.0027778.
	near(t, "OLIA increase 0", OLIAIncrease(w, rtt, out[0], 0), 0.1/9+0.05, 1e-12)
	near(t, "OLIA increase 1", OLIAIncrease(w, rtt, out[1], 1), 0.2/9-0.025, 1e-12)

	// The best path also has the largest window: B\M is empty, all zero.
	OLIAAlphas(w, rtt, []float64{500, 1000}, out)
	near(t, "alpha_0 (best is max)", out[0], 0, 0)
	near(t, "alpha_1 (best is max)", out[1], 0, 0)

	// Three paths, w = (10, 10, 30), equal RTTs, l = (800, 800, 100): B =
	// {0, 1}, M = {2}, B\M = {0, 1}: alpha = 1/(3*2) for 0 and 1, -1/3 for 2.
	OLIAAlphas([]float64{10, 10, 30}, []float64{5, 5, 5}, []float64{800, 800, 100}, out)
	near(t, "3 paths alpha_0", out[0], 1.0/6, 1e-12)
	near(t, "3 paths alpha_1", out[1], 1.0/6, 1e-12)
	near(t, "3 paths alpha_2", out[2], -1.0/3, 1e-12)
	// The alphas of a connection sum to zero whenever they are not all zero.
	near(t, "sum", out[0]+out[1]+out[2], 0, 1e-12)

	// One path: OLIA is Reno, 1/w per packet.
	one := make([]float64, 1)
	OLIAAlphas([]float64{25}, []float64{3}, []float64{7}, one)
	near(t, "one path alpha", one[0], 0, 0)
	near(t, "one path increase", OLIAIncrease([]float64{25}, []float64{3}, 0, 0), 1.0/25, 1e-12)
}

func TestBALIA(t *testing.T) {
	// w = (10, 20), rtt = (10, 10): x = (1, 2), alpha = (2, 1), sum x = 3.
	w, rtt := []float64{10, 20}, []float64{10, 10}
	// Path 0: (1/10)/9 * (1+2)/2 * (4+2)/5 = 0.011111 * 1.5 * 1.2 = 0.02.
	near(t, "BALIA increase 0", BALIAIncrease(w, rtt, 0), 0.02, 1e-12)
	// Path 1: (2/10)/9 * 1 * 1 = 0.022222.
	near(t, "BALIA increase 1", BALIAIncrease(w, rtt, 1), 0.2/9, 1e-12)
	// Decrease: path 0 10/2 * min(2, 1.5) = 7.5; path 1 20/2 * 1 = 10.
	near(t, "BALIA decrease 0", BALIADecrease(w, rtt, 0), 7.5, 1e-12)
	near(t, "BALIA decrease 1", BALIADecrease(w, rtt, 1), 10, 1e-12)
	// One path: Reno, 1/w per packet and halving.
	near(t, "one path increase", BALIAIncrease([]float64{40}, []float64{2}, 0), 1.0/40, 1e-12)
	near(t, "one path decrease", BALIADecrease([]float64{40}, []float64{2}, 0), 20, 1e-12)
}
