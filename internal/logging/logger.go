package logging

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Options configure a Logger. The zero value logs nothing.
type Options struct {
	Destination string   // "syslog" or "file"; "" logs nothing
	File        string   // with Destination "file"
	Facility    Facility // with Destination "syslog"
	Level       int      // glexec log_level, 0..5
	Socket      string   // syslog socket; default /dev/log
	Ident       string   // syslog ident; default "glexec"
	PID         int      // pid shown in the tag; default os.Getpid()

	// LCMAPS messages have their own verbosity (lcmaps_debug_level) and may
	// go to their own file (lcmaps_log_file); without one they go to the
	// main destination prefixed with "lcmaps: ", as in gLExec.
	LCMAPSLevel int
	LCMAPSFile  string

	Now func() time.Time // for tests; default time.Now
}

// Logger writes prioritised messages to one sink under one tag. Derived
// loggers (LCMAPS, Monitor) share the underlying logrus logger.
type Logger struct {
	c      *core
	sink   sink
	tag    string
	prefix string
	max    Priority // least severe priority written; 0 = nothing
}

type core struct {
	lr      *logrus.Logger
	now     func() time.Time
	opts    Options
	main    *Logger
	lcmaps  *Logger
	mu      sync.Mutex
	sinks   []sink
	lastErr error
}

// Field keys carried through logrus to the hook.
const (
	fieldLogger   = "glexec.logger"
	fieldPriority = "glexec.priority"
)

// New builds the logger a glexec process uses. An unusable destination (no
// syslog socket, unwritable file) is an error: the caller decides whether
// that is fatal.
func New(o Options) (*Logger, error) {
	if o.Socket == "" {
		o.Socket = "/dev/log"
	}
	if o.Ident == "" {
		o.Ident = "glexec"
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &core{now: o.Now, opts: o}
	c.lr = logrus.New()
	c.lr.SetOutput(io.Discard)
	c.lr.SetLevel(logrus.TraceLevel)
	c.lr.AddHook(hook{c})

	main := &Logger{c: c, tag: fmt.Sprintf("%s[%d]", o.Ident, o.PID), max: threshold(o.Level)}
	switch o.Destination {
	case "":
		main.max = 0
	case "syslog":
		main.sink = &syslogSink{path: o.Socket, facility: o.Facility}
	case "file":
		fs, err := openLogFile(o.File)
		if err != nil {
			return nil, err
		}
		main.sink = fs
	default:
		return nil, fmt.Errorf("log destination %q: want syslog or file", o.Destination)
	}
	if main.sink != nil {
		c.sinks = append(c.sinks, main.sink)
	}

	lc := &Logger{c: c, sink: main.sink, tag: main.tag, prefix: "lcmaps: ", max: LCMAPSThreshold(o.LCMAPSLevel)}
	if o.Destination == "" {
		lc.max = 0
	}
	if o.LCMAPSFile != "" {
		fs, err := openLogFile(o.LCMAPSFile)
		if err != nil {
			// LCMAPS falls back to syslog when its file cannot be opened,
			// and says so there.
			main.Log(Err, "lcmaps: lcmaps_log_open(): Cannot open logfile %s, will use syslog: %v", o.LCMAPSFile, err)
		} else {
			c.sinks = append(c.sinks, fs)
			lc.sink = fs
			lc.prefix = ""
			lc.tag = fmt.Sprintf("%s:lcmaps[%d]", o.Ident, o.PID)
			lc.max = LCMAPSThreshold(o.LCMAPSLevel)
		}
	}
	c.main = main
	c.lcmaps = lc
	return main, nil
}

// Discard returns a logger that writes nothing.
func Discard() *Logger {
	l, _ := New(Options{})
	return l
}

// LCMAPS returns the logger for messages of the LCMAPS-compatible engine and
// its plugins: "lcmaps: " prefixed, filtered by lcmaps_debug_level.
func (l *Logger) LCMAPS() *Logger { return l.c.lcmaps }

// Monitor returns a logger tagged glexec.mon[<monitorPID>#<glexecPID>], the
// shape the glexec gratia probe parses.
func (l *Logger) Monitor(monitorPID, glexecPID int) *Logger {
	m := *l
	m.tag = fmt.Sprintf("%s.mon[%d#%d]", l.c.opts.Ident, monitorPID, glexecPID)
	m.prefix = ""
	return &m
}

// Enabled reports whether a message of priority p would be written.
func (l *Logger) Enabled(p Priority) bool { return l.sink != nil && p <= l.max }

// Log writes one message. Formatting happens only if the message is kept.
func (l *Logger) Log(p Priority, format string, args ...any) {
	if !l.Enabled(p) {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	l.c.lr.WithFields(logrus.Fields{fieldLogger: l, fieldPriority: p}).Log(levelOf(p), l.prefix+msg)
}

func (l *Logger) Errorf(format string, args ...any)   { l.Log(Err, format, args...) }
func (l *Logger) Warningf(format string, args ...any) { l.Log(Warning, format, args...) }
func (l *Logger) Noticef(format string, args ...any)  { l.Log(Notice, format, args...) }
func (l *Logger) Infof(format string, args ...any)    { l.Log(Info, format, args...) }
func (l *Logger) Debugf(format string, args ...any)   { l.Log(Debug, format, args...) }

// Logrus returns the underlying logrus logger. Entries logged on it directly
// (by libraries that use logrus) go to the main sink with a priority taken
// from their level.
func (l *Logger) Logrus() *logrus.Logger { return l.c.lr }

// Failed returns the last error a sink reported, or nil. Logging never
// fails a request; --check uses this to tell the administrator.
func (l *Logger) Failed() error {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.c.lastErr
}

// Close releases sockets and files.
func (l *Logger) Close() error {
	var first error
	for _, s := range l.c.sinks {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func levelOf(p Priority) logrus.Level {
	switch {
	case p <= Err:
		return logrus.ErrorLevel
	case p == Warning:
		return logrus.WarnLevel
	case p <= Info:
		return logrus.InfoLevel
	}
	return logrus.DebugLevel
}

func priorityOf(lv logrus.Level) Priority {
	switch lv {
	case logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel:
		return Err
	case logrus.WarnLevel:
		return Warning
	case logrus.InfoLevel:
		return Info
	}
	return Debug
}

// hook delivers logrus entries to the sinks.
type hook struct{ c *core }

func (hook) Levels() []logrus.Level { return logrus.AllLevels }

func (h hook) Fire(e *logrus.Entry) error {
	var r record
	var target sink
	if l, ok := e.Data[fieldLogger].(*Logger); ok {
		r.priority = priorityFromEntry(e)
		r.tag = l.tag
		target = l.sink
	} else {
		// A library logging through logrus directly: main sink, main tag,
		// main threshold.
		main := h.c.main
		if main == nil || !main.Enabled(priorityOf(e.Level)) {
			return nil
		}
		r.priority = priorityOf(e.Level)
		r.tag = main.tag
		target = main.sink
		msg := e.Message
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			msg += fmt.Sprintf(" %s=%v", k, e.Data[k])
		}
		e = &logrus.Entry{Message: msg}
	}
	if target == nil {
		return nil
	}
	r.time = h.c.now()
	r.message = Sanitize(e.Message)
	if err := target.write(r); err != nil {
		h.c.mu.Lock()
		h.c.lastErr = err
		h.c.mu.Unlock()
	}
	return nil
}

// priorityFromEntry recovers the exact priority: logrus has no NOTICE
// level, so Log carries the syslog priority in a field.
func priorityFromEntry(e *logrus.Entry) Priority {
	if p, ok := e.Data[fieldPriority].(Priority); ok {
		return p
	}
	return priorityOf(e.Level)
}
