package tcp

import (
	"testing"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

func TestShareSendWindow(t *testing.T) {
	syn, err := NewActive(Config{ISS: 1, MSS: 1460, CC: cc.NewCubic(1460)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if syn.ShareSendWindow(1 << 20) {
		t.Error("ShareSendWindow raised the window of a connection in SYN-SENT")
	}
	p := newPipePair(t, 1460)
	a := p.a
	w := a.SendWindow()
	if w == 0 || a.ShareSendWindow(w) || a.ShareSendWindow(w/2) || a.SendWindow() != w {
		t.Fatalf("window %d: ShareSendWindow must not lower it or report an unchanged one", w)
	}
	// The peer's last window was zero: nothing goes out, and the persist
	// timer is armed.
	a.sndWnd = 0
	a.Write(streamAt(0, 64<<10))
	if _, ok := a.Output(p.now, p.fa); ok {
		t.Fatal("a segment went out into a zero window")
	}
	if a.persistAt == 0 {
		t.Fatal("no persist timer with data waiting behind a zero window")
	}
	const shared = 8 << 10 // below the congestion window
	if !a.ShareSendWindow(shared) || a.SendWindow() != shared {
		t.Fatalf("ShareSendWindow(%d) on a zero window: window %d", shared, a.SendWindow())
	}
	if a.persistAt != 0 {
		t.Error("the persist timer is still armed with an open window")
	}
	sent := 0
	for {
		s, ok := a.Output(p.now, p.fa)
		if !ok {
			break
		}
		sent += len(s.Payload)
	}
	// Sender SWS avoidance may hold back a last partial segment.
	if sent > shared || sent <= shared-a.MSS() {
		t.Errorf("sent %d bytes after the window was shared, want the %d it allows (less a partial segment at most)", sent, shared)
	}
}
