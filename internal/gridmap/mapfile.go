package gridmap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Reasons for mapfile failures.
const (
	// ReasonMapfileUnreadable: the grid-mapfile or group-mapfile cannot be
	// opened or read.
	ReasonMapfileUnreadable failure.Reason = "mapfile-unreadable"
	// ReasonMapfileInvalid: a line of the mapfile is malformed in a way that
	// makes LCMAPS abandon the whole lookup (unbalanced quote, trailing
	// backslash, over-long line).
	ReasonMapfileInvalid failure.Reason = "mapfile-invalid"
)

const (
	// maxLineLength bounds one mapfile line. Real lines are a DN and a few
	// account names; a megabyte-long line is a corrupt or hostile file.
	maxLineLength = 64 * 1024
	// maxMappings bounds the mappings kept from one line.
	maxMappings = 1024
	// maxBuffer is the read buffer for large mapfiles; longer lines are
	// assembled separately.
	maxBuffer = 64 * 1024
)

// Entry is one parsed mapfile line.
type Entry struct {
	Subject  string   // the DN or FQAN pattern, backslashes kept as written
	Mappings []string // account, group or ".pool" names, escapes resolved
	Line     int
}

// Query says what a lookup looks for.
type Query struct {
	Subject string // the DN or FQAN of the credential

	// Wildcards enables fnmatch(3) matching of the file's subjects.
	Wildcards bool

	// SubjectOnly matches lines by subject alone, as ban lists do: a line
	// needs no mappings.
	SubjectOnly bool

	// DefaultFile says the path is the default grid-mapfile, not one the
	// configuration named (only the log wording differs).
	DefaultFile bool

	// Accept says whether a mapping is acceptable; nil accepts any. The
	// first matching line with an acceptable mapping wins.
	Accept func(mapping string) bool
}

// Result is a successful lookup.
type Result struct {
	Mapping string // "" with SubjectOnly
	Pattern string // the subject as written in the file
	Line    int
}

// Lookup scans the mapfile at path for the first line matching q, logging
// as lcmaps_gridmapfile does. found is false when no line matches; err is
// set when the file cannot be used, which LCMAPS treats as a failed lookup.
func Lookup(path string, q Query, log *logging.Logger) (res Result, found bool, err error) {
	log = orDiscard(log)
	f, err := os.Open(path)
	if err != nil {
		if q.DefaultFile {
			log.Errorf("lcmaps_gridmapfile: cannot open default mapfile %s", path)
		} else {
			log.Errorf("lcmaps_gridmapfile: cannot open mapfile %s", path)
		}
		return Result{}, false, failure.Wrap(failure.System, ReasonMapfileUnreadable, path, err).
			WithHint("check that the file exists and is readable by root")
	}
	defer f.Close()
	bufSize := maxBuffer
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() == 0 {
			log.Infof("lcmaps_gridmapfile-read_mapfile: mapfile %s has size zero.", path)
			return Result{}, false, nil
		}
		// A small file needs no big buffer: it is allocated per lookup.
		bufSize = int(min(fi.Size()+1, maxBuffer))
	}
	return scan(f, bufSize, path, q, log)
}

func scan(r io.Reader, bufSize int, path string, q Query, log *logging.Logger) (Result, bool, error) {
	br := bufio.NewReaderSize(r, bufSize)
	var long []byte
	var e Entry
	for n := 1; ; n++ {
		line, err := readLine(br, &long)
		if err == errLineTooLong {
			log.Errorf("lcmaps_gridmapfile-get_line: line %d longer than %d bytes", n, maxLineLength)
			return Result{}, false, failure.New(failure.System, ReasonMapfileInvalid, path,
				fmt.Sprintf("line %d is longer than %d bytes", n, maxLineLength))
		}
		if err != nil && err != io.EOF {
			return Result{}, false, failure.Wrap(failure.System, ReasonMapfileUnreadable, path, err)
		}
		if len(line) == 0 && err == io.EOF {
			return Result{}, false, nil
		}
		// Most lines are for other subjects: find and compare the subject
		// in place, and parse the mappings only of a matching line.
		s0, s1, _, ok, lerr := splitSubject(line)
		if lerr != nil {
			log.Errorf("lcmaps_gridmapfile-get_line: %s", lerr.Error())
			return Result{}, false, failure.New(failure.System, ReasonMapfileInvalid, path,
				fmt.Sprintf("line %d: %s", n, lerr.msg))
		}
		if ok && subjectMatches(line[s0:s1], q) {
			parseLine(string(line), n, &e)
			if q.SubjectOnly {
				return Result{Pattern: e.Subject, Line: n}, true, nil
			}
			if len(e.Mappings) == 0 {
				log.Warningf("lcmaps_gridmapfile: Skipping malformed line %d: no mappings.", n)
			}
			for _, m := range e.Mappings {
				if q.Accept == nil || q.Accept(m) {
					log.Infof("lcmaps_gridmapfile: Found mapping %s for \"%s\" (line %d)", m, e.Subject, n)
					return Result{Mapping: m, Pattern: e.Subject, Line: n}, true, nil
				}
			}
		}
		if err == io.EOF {
			return Result{}, false, nil
		}
	}
}

func subjectMatches(pattern []byte, q Query) bool {
	if string(pattern) == q.Subject {
		return true
	}
	return q.Wildcards && match(pattern, q.Subject)
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline, valid until the next
// call; io.EOF comes with the last, unterminated line (possibly empty).
// Lines longer than the reader's buffer are assembled in *long.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	chunk, err := br.ReadSlice('\n')
	if err == nil {
		return chunk[:len(chunk)-1], nil
	}
	if err != bufio.ErrBufferFull {
		return chunk, err
	}
	b := append((*long)[:0], chunk...)
	for {
		chunk, err = br.ReadSlice('\n')
		if len(b)+len(chunk) > maxLineLength+1 {
			// Skip the rest of the line so the error names one line.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			return nil, errLineTooLong
		}
		b = append(b, chunk...)
		*long = b
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return b, err
		}
		return b[:len(b)-1], nil
	}
}

type lineError struct {
	msg  string
	line string
}

func (e *lineError) Error() string {
	if e.line == "" {
		return e.msg
	}
	return "invalid line: " + e.msg + ": " + e.line
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// splitSubject finds the subject of a line: line[s0:s1], with the
// mappings from rest on. ok is false for blank and comment lines. The
// subject keeps its backslashes: LCMAPS only uses them to hide a quote
// from the end-of-subject scan.
func splitSubject[L ~string | ~[]byte](line L) (s0, s1, rest int, ok bool, lerr *lineError) {
	i := 0
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if i == len(line) || line[i] == '#' {
		return 0, 0, 0, false, nil
	}
	end := len(line)
	for end > 0 && line[end-1] == '\r' {
		end--
	}
	if end > 0 && line[end-1] == '\\' {
		return 0, 0, 0, false, &lineError{msg: "continuation char not supported"}
	}
	if line[i] == '"' {
		j := i + 1
		for ; j < len(line) && line[j] != '"'; j++ {
			if line[j] == '\\' {
				j++
			}
		}
		if j >= len(line) {
			return 0, 0, 0, false, &lineError{msg: "quote-inbalance", line: string(line)}
		}
		return i + 1, j, j + 1, true, nil
	}
	j := i
	for j < len(line) && !isBlank(line[j]) {
		j++
	}
	return i, j, j, true, nil
}

// parseLine parses one line into e. It reports false for blank and
// comment lines. In the mappings a backslash quotes the next character and
// is removed.
func parseLine(line string, n int, e *Entry) (bool, *lineError) {
	s0, s1, i, ok, lerr := splitSubject(line)
	if !ok || lerr != nil {
		return false, lerr
	}
	e.Line = n
	e.Subject = line[s0:s1]
	e.Mappings = e.Mappings[:0]
	var tok []byte
	flush := func() {
		if len(tok) > 0 && len(e.Mappings) < maxMappings {
			e.Mappings = append(e.Mappings, string(tok))
		}
		tok = tok[:0]
	}
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			tok = append(tok, line[i])
		case c == '#':
			i = len(line)
		case c == ',' || isBlank(c):
			flush()
		default:
			tok = append(tok, c)
		}
	}
	flush()
	return true, nil
}

// ParseLine parses one mapfile line, for tools and tests. ok is false for
// blank and comment lines.
func ParseLine(line string) (e Entry, ok bool, err error) {
	ok, lerr := parseLine(line, 1, &e)
	if lerr != nil {
		return Entry{}, false, failure.New(failure.System, ReasonMapfileInvalid, "mapfile line", lerr.msg)
	}
	return e, ok, nil
}
