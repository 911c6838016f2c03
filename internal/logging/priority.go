package logging

import (
	"fmt"
	"strings"
)

// Priority is a syslog severity (RFC 5424 numbering).
type Priority int

const (
	Err     Priority = 3
	Warning Priority = 4
	Notice  Priority = 5
	Info    Priority = 6
	Debug   Priority = 7
)

var priorityNames = map[Priority]string{
	Err:     "LOG_ERR",
	Warning: "LOG_WARNING",
	Notice:  "LOG_NOTICE",
	Info:    "LOG_INFO",
	Debug:   "LOG_DEBUG",
}

func (p Priority) String() string {
	if n, ok := priorityNames[p]; ok {
		return n
	}
	return fmt.Sprintf("LOG_%d", int(p))
}

// threshold turns a glexec log_level (0 none, 1 errors, 2 +warnings,
// 3 +notices, 4 +info, 5 debug) into the least severe priority still
// written; 0 means nothing is written.
func threshold(level int) Priority {
	switch {
	case level <= 0:
		return 0
	case level >= 5:
		return Debug
	}
	return Priority(level + 2)
}

// LCMAPSThreshold maps an LCMAPS debug level (0..5) to a priority cut-off
// the way liblcmaps does: 0 and 1 both mean LOG_ERR.
func LCMAPSThreshold(level int) Priority {
	if level <= 1 {
		return Err
	}
	return threshold(level)
}

// Facility is a syslog facility code (already shifted: LOG_LOCAL1 = 17<<3).
type Facility int

var facilities = map[string]Facility{
	"LOG_KERN": 0 << 3, "LOG_USER": 1 << 3, "LOG_MAIL": 2 << 3, "LOG_DAEMON": 3 << 3,
	"LOG_AUTH": 4 << 3, "LOG_SYSLOG": 5 << 3, "LOG_LPR": 6 << 3, "LOG_NEWS": 7 << 3,
	"LOG_UUCP": 8 << 3, "LOG_CRON": 9 << 3, "LOG_AUTHPRIV": 10 << 3, "LOG_FTP": 11 << 3,
	"LOG_LOCAL0": 16 << 3, "LOG_LOCAL1": 17 << 3, "LOG_LOCAL2": 18 << 3, "LOG_LOCAL3": 19 << 3,
	"LOG_LOCAL4": 20 << 3, "LOG_LOCAL5": 21 << 3, "LOG_LOCAL6": 22 << 3, "LOG_LOCAL7": 23 << 3,
}

// ParseFacility accepts the names glexec.conf has always used (LOG_DAEMON,
// LOG_LOCAL1, ...), with or without the LOG_ prefix, in any case.
func ParseFacility(s string) (Facility, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "LOG_") {
		name = "LOG_" + name
	}
	if f, ok := facilities[name]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("unknown syslog facility %q (want LOG_DAEMON, LOG_AUTHPRIV, LOG_LOCAL0..LOG_LOCAL7, ...)", s)
}

// String is the facility's glexec.conf name (LOG_DAEMON), which
// ParseFacility reads back.
func (f Facility) String() string {
	for name, v := range facilities {
		if v == f {
			return name
		}
	}
	return fmt.Sprintf("facility(%d)", int(f))
}
