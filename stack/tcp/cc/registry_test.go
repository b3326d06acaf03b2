package cc

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, name := range Names() {
		c, err := New(name)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if c.Name() != name {
			t.Fatalf("New(%q).Name() = %q", name, c.Name())
		}
		if c.Cwnd() != InitialWindow(DefaultMSS) {
			t.Fatalf("New(%q): cwnd %d, want %d", name, c.Cwnd(), InitialWindow(DefaultMSS))
		}
	}
	_, err := New("bbr")
	if err == nil {
		t.Fatal(`New("bbr") succeeded`)
	}
	for _, want := range []string{`"bbr"`, "cubic", "reno"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %s", err, want)
		}
	}
}
