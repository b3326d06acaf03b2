package coupled

// Pure forms of the coupled algorithms' formulas as the papers write them:
// windows in packets (segments), RTTs in any one unit, increases in packets
// per acknowledged packet. Alphas are dimensionless, so LIAAlpha and
// OLIAAlphas accept windows in bytes too. The per-ACK code computes the
// same quantities in bytes from cached sums.

// LIAAlpha returns alpha of RFC 6356 section 3 for paths with windows w
// and round-trip times rtt:
//
//	alpha = w_total * max_i(w_i / rtt_i^2) / (sum_i w_i / rtt_i)^2
//
// It returns 0 when no path has a positive window and RTT.
func LIAAlpha(w, rtt []float64) float64 {
	var total, best, rate float64
	for i := range w {
		if w[i] <= 0 || rtt[i] <= 0 {
			continue
		}
		total += w[i]
		best = max(best, w[i]/(rtt[i]*rtt[i]))
		rate += w[i] / rtt[i]
	}
	if rate == 0 {
		return 0
	}
	return total * best / (rate * rate)
}

// LIAIncrease returns the window increase of path r in packets for one
// acknowledged packet (RFC 6356): min(alpha/w_total, 1/w_r).
func LIAIncrease(w, rtt []float64, r int) float64 {
	var total float64
	for i := range w {
		if w[i] > 0 && rtt[i] > 0 {
			total += w[i]
		}
	}
	return min(LIAAlpha(w, rtt)/total, 1/w[r])
}

// OLIAAlphas writes OLIA's alpha_r for every path into out (len(out) >=
// len(w)). l holds each path's bytes between losses, max(l1, l2) in the
// paper's terms. With n paths, B the paths maximising l/rtt^2 and M the
// paths with the largest window: a path in B but not in M gets
// 1/(n*|B\M|), a path in M gets -1/(n*|M|) when B\M is not empty, and
// every other path 0.
func OLIAAlphas(w, rtt, l, out []float64) {
	n := 0
	var bestQ, maxW float64
	for i := range w {
		out[i] = 0
		if w[i] <= 0 || rtt[i] <= 0 {
			continue
		}
		n++
		bestQ = max(bestQ, l[i]/(rtt[i]*rtt[i]))
		maxW = max(maxW, w[i])
	}
	collected, inM := 0, 0
	for i := range w {
		if w[i] <= 0 || rtt[i] <= 0 {
			continue
		}
		best := l[i]/(rtt[i]*rtt[i]) >= bestQ
		if w[i] >= maxW {
			inM++
		} else if best {
			collected++
		}
	}
	if collected == 0 {
		return
	}
	for i := range w {
		if w[i] <= 0 || rtt[i] <= 0 {
			continue
		}
		if w[i] >= maxW {
			out[i] = -1 / float64(n*inM)
		} else if l[i]/(rtt[i]*rtt[i]) >= bestQ {
			out[i] = 1 / float64(n*collected)
		}
	}
}

// OLIAIncrease returns the window increase of path r in packets for one
// acknowledged packet, given its alpha_r from OLIAAlphas:
//
//	(w_r/rtt_r^2) / (sum_p w_p/rtt_p)^2 + alpha_r / w_r
func OLIAIncrease(w, rtt []float64, alpha float64, r int) float64 {
	var rate float64
	for i := range w {
		if w[i] > 0 && rtt[i] > 0 {
			rate += w[i] / rtt[i]
		}
	}
	return w[r]/(rtt[r]*rtt[r])/(rate*rate) + alpha/w[r]
}

// baliaAlpha returns BALIA's alpha_r = max_k x_k / x_r for x = w/rtt, and the sum of x.
func baliaAlpha(w, rtt []float64, r int) (alpha, sumX float64) {
	var maxX float64
	for i := range w {
		if w[i] <= 0 || rtt[i] <= 0 {
			continue
		}
		x := w[i] / rtt[i]
		sumX += x
		maxX = max(maxX, x)
	}
	return maxX / (w[r] / rtt[r]), sumX
}

// BALIAIncrease returns BALIA's window increase of path r in packets for
// one acknowledged packet, with x_k = w_k/rtt_k and
// alpha_r = max_k x_k / x_r:
//
//	(x_r / rtt_r) / (sum_k x_k)^2 * (1 + alpha_r)/2 * (4 + alpha_r)/5
func BALIAIncrease(w, rtt []float64, r int) float64 {
	alpha, sumX := baliaAlpha(w, rtt, r)
	x := w[r] / rtt[r]
	return x / rtt[r] / (sumX * sumX) * (1 + alpha) / 2 * (4 + alpha) / 5
}

// BALIADecrease returns by how much BALIA reduces path r's window (in the
// window's unit) on a loss: w_r/2 * min(alpha_r, 1.5).
func BALIADecrease(w, rtt []float64, r int) float64 {
	alpha, _ := baliaAlpha(w, rtt, r)
	return w[r] / 2 * min(alpha, 1.5)
}
