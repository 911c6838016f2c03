// Package logging builds the one logger of a glexec process and writes the
// message shapes sites already grep for.
//
// A Logger is a value: mains build it from glexec.conf and pass it down;
// libraries that must report progress (the LCMAPS-compatible engine, the
// sandbox supervisor) take it as an argument and never log through a global.
// Underneath sits a logrus.Logger with hooks for the sinks, so that code
// using logrus directly (libcontainer, in the helper) lands in the same
// place.
//
// Sinks are syslog (a datagram to /dev/log in the format glibc's syslog(3)
// sends: "<PRI>Mmm dd hh:mm:ss tag: message", tag "glexec[pid]") and plain
// files. Every message is sanitised before it is written: control
// characters, newlines included, become '?', so a caller-controlled value
// (GLEXEC_ID, a DN, a path) can never forge a log line; messages are cut at
// 2048 bytes as LCMAPS does.
//
// The package does not rotate files and does not buffer: each message is one
// write, so a crash loses nothing already logged.
package logging
