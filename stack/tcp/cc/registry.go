package cc

import (
	"fmt"
	"strings"
)

// names lists the algorithms New knows, sorted.
var names = []string{"cubic", "reno"}

// Names returns the names New accepts, sorted.
func Names() []string { return append([]string(nil), names...) }

// DefaultMSS is the segment size New initialises controllers with; the
// engine calls Init with the negotiated MSS before the first segment.
const DefaultMSS = 1460

// New returns a controller for the algorithm called name ("reno" or
// "cubic", as Linux spells them), initialised for DefaultMSS at time zero.
// Unknown names get an error that lists the valid ones.
func New(name string) (Controller, error) {
	switch name {
	case "reno":
		return NewReno(DefaultMSS), nil
	case "cubic":
		return NewCubic(DefaultMSS), nil
	}
	return nil, fmt.Errorf("cc: unknown congestion control %q: use one of %s", name, strings.Join(names, ", "))
}
