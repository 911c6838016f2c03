package launch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/failure"
)

// MaxRequestSize bounds the JSON request read from the pipe. A real request
// is a few KiB (argv and env dominate); 1 MiB leaves room for large
// environments while keeping a hostile or runaway writer from making the
// root helper allocate without bound.
const MaxRequestSize = 1 << 20

// Reasons for refusing a request. All are System (202) failures: glexec
// builds the request, so a bad one means a broken or mismatched install.
const (
	// ReasonTooLarge: the request exceeds MaxRequestSize.
	ReasonTooLarge failure.Reason = "request-too-large"
	// ReasonMalformed: the request is not one JSON object of known fields.
	ReasonMalformed failure.Reason = "request-malformed"
	// ReasonVersion: the request's protocol version is not Version.
	ReasonVersion failure.Reason = "request-version"
	// ReasonInvalid: a field has a value Validate refuses.
	ReasonInvalid failure.Reason = "request-invalid"
	// ReasonNotPipe: the request did not arrive on a pipe.
	ReasonNotPipe failure.Reason = "request-not-pipe"
)

// Encode validates r and writes it to w as one JSON document. glexec closes
// the pipe afterwards; the end of file ends the request.
func Encode(w io.Writer, r *Request) error {
	b, err := marshal(r)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return failure.Wrap(failure.System, ReasonMalformed, "launch request", err)
	}
	return nil
}

func marshal(r *Request) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonMalformed, "launch request", err)
	}
	if len(b) > MaxRequestSize {
		return nil, failure.New(failure.System, ReasonTooLarge, "launch request",
			fmt.Sprintf("%d bytes, limit %d", len(b), MaxRequestSize))
	}
	return b, nil
}

// Marshal validates r and returns it as the helper reads it, for a pipe
// the helper is already reading.
func Marshal(r *Request) ([]byte, error) { return marshal(r) }

// Pipe returns the read end of a pipe that already holds r, complete and
// closed for writing, for a helper started after the request is made (the
// sweep, a helper that could not be started early, tests): the helper gets
// it as fd 3 and reads it to EOF without anyone feeding it. The pipe is grown to fit (MaxRequestSize is the
// kernel's default pipe-max-size; root may exceed it anyway).
func Pipe(r *Request) (*os.File, error) {
	b, err := marshal(r)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonMalformed, "launch request pipe", err)
	}
	defer pw.Close()
	if len(b) > 1<<16 {
		if _, err := unix.FcntlInt(pw.Fd(), unix.F_SETPIPE_SZ, len(b)); err != nil {
			pr.Close()
			return nil, failure.Wrap(failure.System, ReasonTooLarge, "launch request pipe", fmt.Errorf("grow to %d bytes: %w", len(b), err))
		}
	}
	if _, err := pw.Write(b); err != nil {
		pr.Close()
		return nil, failure.Wrap(failure.System, ReasonMalformed, "launch request pipe", err)
	}
	return pr, nil
}

// Decode reads one request from rd until end of file, strictly: unknown
// fields, trailing data, a wrong version or invalid values are refused.
func Decode(rd io.Reader) (*Request, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxRequestSize+1))
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonMalformed, "launch request", err)
	}
	if len(b) > MaxRequestSize {
		return nil, failure.New(failure.System, ReasonTooLarge, "launch request",
			fmt.Sprintf("more than %d bytes", MaxRequestSize))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, failure.Wrap(failure.System, ReasonMalformed, "launch request", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, failure.New(failure.System, ReasonMalformed, "launch request", "trailing data after the request")
	}
	if r.Version != Version {
		return nil, failure.New(failure.System, ReasonVersion, "launch request",
			fmt.Sprintf("protocol version %d, this helper speaks %d", r.Version, Version)).
			WithHint("glexec and glexec-sandbox come from different builds; reinstall both")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// ReadPipe decodes the request from f, which must be a pipe: the helper
// accepts requests only from the pipe glexec set up, never from a file or a
// terminal someone else could have prepared.
func ReadPipe(f *os.File) (*Request, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, failure.Wrap(failure.System, ReasonNotPipe, "launch request fd", err).
			WithHint("glexec-sandbox is started by glexec only")
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, failure.New(failure.System, ReasonNotPipe, "launch request fd",
			fmt.Sprintf("file type %#o, want a pipe", st.Mode&syscall.S_IFMT)).
			WithHint("glexec-sandbox is started by glexec only")
	}
	return Decode(f)
}
