package xacml

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The mapping-service call is one HTTP/1.1 POST on a TLS connection of its
// own. net/http would do it, but it is one of the largest things linked into
// the setuid front end, and every glexec call paid for starting it, mapping
// service configured or not: 1-1.5 ms of a 12 ms glexec --map on a small VM,
// and 1 MB of an 8 MB binary. A SOAP call needs none of what it adds: no
// keep-alive, redirects, proxies, cookies, compression or HTTP/2.

const (
	// maxHeaderLines bounds the number of response header lines.
	maxHeaderLines = 100
	// maxInterim bounds the 1xx responses skipped before the final one.
	maxInterim = 5
	// maxChunkLine bounds a chunk-size line (size, extensions, CRLF).
	maxChunkLine = 4096
)

// errResponse marks a malformed HTTP response.
var errResponse = errors.New("malformed HTTP response")

// post sends body to ep as a SOAP request and returns the HTTP status and
// body of the answer. tcfg.ServerName "" means ep's host name. Errors are
// the dialer's, TLS's (x509 verification errors included) or
// ctx.Err() when the deadline passed.
func post(ctx context.Context, ep *url.URL, body []byte, tcfg *tls.Config, connectTimeout time.Duration) (int, []byte, error) {
	addr := ep.Host
	if ep.Port() == "" {
		addr = net.JoinHostPort(ep.Hostname(), "443")
	}
	d := &net.Dialer{Timeout: connectTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, nil, err
	}
	defer raw.Close()
	cfg := tcfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = ep.Hostname()
	}
	conn := tls.Client(raw, cfg)
	// A cancelled or expired context unblocks whatever the connection is
	// doing; the error is then the context's.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	hctx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err == nil {
		status, data, rerr := roundTrip(conn, ep, body)
		if rerr == nil {
			return status, data, nil
		}
		err = rerr
	}
	if ctx.Err() != nil {
		return 0, nil, ctx.Err()
	}
	return 0, nil, err
}

func roundTrip(conn io.ReadWriter, ep *url.URL, body []byte) (int, []byte, error) {
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: glexec\r\n", ep.RequestURI(), ep.Host)
	fmt.Fprintf(&req, "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\n")
	fmt.Fprintf(&req, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	req.Write(body)
	if _, err := conn.Write(req.Bytes()); err != nil {
		return 0, nil, err
	}
	return readResponse(bufio.NewReader(conn))
}

// readResponse reads one HTTP/1.x response: status line, headers, and a
// body delimited by chunked encoding, Content-Length or the end of the
// connection, within maxHeaderBytes and MaxResponseBytes. Interim 1xx
// responses are skipped.
func readResponse(br *bufio.Reader) (int, []byte, error) {
	for interim := 0; ; interim++ {
		status, hdr, err := readHead(br)
		if err != nil {
			return 0, nil, err
		}
		if status >= 200 {
			data, err := readBody(br, hdr)
			return status, data, err
		}
		if interim == maxInterim {
			return 0, nil, fmt.Errorf("%w: more than %d interim responses", errResponse, maxInterim)
		}
	}
}

// head are the response headers readBody needs.
type head struct {
	chunked bool
	length  int64 // -1: not given
}

func readHead(br *bufio.Reader) (int, head, error) {
	h := head{length: -1}
	budget := maxHeaderBytes
	line, err := readLine(br, &budget)
	if err != nil {
		return 0, h, err
	}
	// "HTTP/1.1 200 OK"; the reason phrase may be empty.
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, cerr := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 || cerr != nil || status < 100 {
		return 0, h, fmt.Errorf("%w: status line %q", errResponse, truncate(line))
	}
	for n := 0; ; n++ {
		line, err := readLine(br, &budget)
		if err != nil {
			return 0, h, err
		}
		if line == "" {
			return status, h, nil
		}
		if n == maxHeaderLines {
			return 0, h, fmt.Errorf("%w: more than %d header lines", errResponse, maxHeaderLines)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return 0, h, fmt.Errorf("%w: header line %q", errResponse, truncate(line))
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "transfer-encoding":
			h.chunked = strings.EqualFold(value, "chunked")
			if !h.chunked {
				return 0, h, fmt.Errorf("%w: transfer coding %q", errResponse, truncate(value))
			}
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || (h.length >= 0 && n != h.length) {
				return 0, h, fmt.Errorf("%w: Content-Length %q", errResponse, truncate(value))
			}
			h.length = n
		}
	}
}

// readLine reads a CRLF- (or LF-) terminated line, charging it to budget.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", fmt.Errorf("%w: a line or the headers longer than allowed", errResponse)
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	return string(bytes.TrimRight(line, "\r\n")), nil
}

// readBody reads the body. One larger than MaxResponseBytes is cut at
// MaxResponseBytes+1 bytes, for ParseResponse to refuse as it refuses any
// oversized answer.
func readBody(br *bufio.Reader, h head) ([]byte, error) {
	if h.chunked {
		return readChunked(br)
	}
	if h.length < 0 {
		// Neither: the body ends with the connection (Connection: close).
		return io.ReadAll(io.LimitReader(br, MaxResponseBytes+1))
	}
	data := make([]byte, min(h.length, MaxResponseBytes+1))
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, fmt.Errorf("%w: body shorter than its Content-Length: %v", errResponse, err)
	}
	return data, nil
}

func readChunked(br *bufio.Reader) ([]byte, error) {
	var data []byte
	for {
		budget := maxChunkLine
		line, err := readLine(br, &budget)
		if err != nil {
			return nil, err
		}
		sizeText, _, _ := strings.Cut(line, ";") // chunk extensions are ignored
		size, err := strconv.ParseUint(strings.TrimSpace(sizeText), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: chunk size %q", errResponse, truncate(line))
		}
		if size == 0 {
			break
		}
		start := len(data)
		n := min(int(size), MaxResponseBytes+1-start)
		data = append(data, make([]byte, n)...)
		if _, err := io.ReadFull(br, data[start:]); err != nil {
			return nil, fmt.Errorf("%w: truncated chunk: %v", errResponse, err)
		}
		if len(data) > MaxResponseBytes {
			return data, nil
		}
		budget = 2
		if crlf, err := readLine(br, &budget); err != nil || crlf != "" {
			return nil, fmt.Errorf("%w: no line end after a chunk", errResponse)
		}
	}
	// Trailers, up to the empty line.
	budget := maxHeaderBytes
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return data, nil
		}
	}
}

// truncate keeps a hostile line from filling the log.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
