// Package netstat parses the Linux kernel's /proc/net/netstat and
// /proc/net/snmp counter files (the format nstat reads): pairs of lines
// "Section: name1 name2 ..." and "Section: v1 v2 ...". It owns only the
// parsing and reading of a file; which namespace's file to read is the
// caller's business (/proc/thread-self/net/... follows the calling thread).
package netstat
