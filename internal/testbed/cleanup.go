package testbed

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// staleOwner parses "mpx-<tag>-<pid>-<n>" and returns pid, or false when
// name does not have that form.
func staleOwner(name string) (int, bool) {
	if !strings.HasPrefix(name, NSPrefix) {
		return 0, false
	}
	parts := strings.Split(name[len(NSPrefix):], "-")
	if len(parts) < 3 || parts[0] == "" {
		return 0, false
	}
	ps, ns := parts[len(parts)-2], parts[len(parts)-1]
	if !allDigits(ps) || !allDigits(ns) {
		return 0, false
	}
	pid, err := strconv.Atoi(ps)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// Cleanup deletes namespaces whose name starts with prefix (which must
// start with "mpx-"; "mpx-" itself selects all of this package's) and that
// were created by a process that no longer exists: leftovers of runs that
// crashed or were killed. It kills processes still inside them and returns
// the names it removed. Namespaces of live runs are left alone.
func Cleanup(prefix string) ([]string, error) {
	if !strings.HasPrefix(prefix, NSPrefix) {
		return nil, fmt.Errorf("testbed: Cleanup prefix %q must start with %q", prefix, NSPrefix)
	}
	if _, err := lookTool("ip"); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(netnsDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("testbed: listing %s failed: %w", netnsDir, err)
	}
	var removed []string
	var errs []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		pid, ok := staleOwner(name)
		if !ok || pidAlive(pid) {
			continue
		}
		killNSPids(name)
		if err := deleteNS(name); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		removed = append(removed, name)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("testbed: cleanup left %d namespaces: %s", len(errs), strings.Join(errs, "; "))
	}
	return removed, nil
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
