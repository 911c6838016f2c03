package xacml

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	big := strings.Repeat("x", MaxResponseBytes+10)
	for _, tc := range []struct {
		name, in string
		status   int
		body     string
		err      error // errors.Is target; nil means success
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello"},
		{name: "chunked with extension and trailer", in: "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
			status: 500, body: "hello world"},
		{name: "chunked wins over a length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", status: 200, body: "ok"},
		{name: "ends with the connection", in: "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc", status: 200, body: "abc"},
		{name: "bare LF line ends", in: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok"},
		{name: "empty reason phrase", in: "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", status: 503, body: ""},
		{name: "interim 100 skipped", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "header names any case", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "oversized length cut for the parser", in: "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, status: 200, body: big[:MaxResponseBytes+1]},
		{name: "oversized chunked cut for the parser", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(big)), 16) + "\r\n" + big + "\r\n0\r\n\r\n", status: 200, body: big[:MaxResponseBytes+1]},
		{name: "oversized unframed cut for the parser", in: "HTTP/1.1 200 OK\r\n\r\n" + big, status: 200, body: big[:MaxResponseBytes+1]},

		{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n\r\n", err: errResponse},
		{name: "HTTP/2 status line", in: "HTTP/2 200\r\n\r\n", err: errResponse},
		{name: "status not three digits", in: "HTTP/1.1 20 OK\r\n\r\n", err: errResponse},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", err: errResponse},
		{name: "space in header name", in: "HTTP/1.1 200 OK\r\nContent Length: 2\r\n\r\nok", err: errResponse},
		{name: "two different lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk", err: errResponse},
		{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: errResponse},
		{name: "unsupported coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: errResponse},
		{name: "body shorter than its length", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", err: errResponse},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: errResponse},
		{name: "chunk without line end", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", err: errResponse},
		{name: "truncated chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nok", err: errResponse},
		{name: "headers cut off", in: "HTTP/1.1 200 OK\r\nContent-Le", err: io.ErrUnexpectedEOF},
		{name: "nothing at all", in: "", err: io.ErrUnexpectedEOF},
		{name: "headers too large", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n", err: errResponse},
		{name: "too many header lines", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: 1\r\n", maxHeaderLines+1) + "\r\n", err: errResponse},
		{name: "endless interim responses", in: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInterim+2), err: errResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := readResponse(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || status != tc.status || string(body) != tc.body {
				t.Fatalf("= %d, %d bytes, %v; want %d, %d bytes", status, len(body), err, tc.status, len(tc.body))
			}
		})
	}
}

// TestPost is the request a SOAP service receives and the answer post
// returns, over TLS with the service's name verified, and a service that
// never answers ending with the caller's deadline.
func TestPost(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	hang := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			<-hang
			return
		}
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<fault/>")
	}))
	defer srv.Close()
	defer close(hang)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// httptest's certificate names example.com and 127.0.0.1.
	tcfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	ep, _ := url.Parse(srv.URL + "/scas/xacml?v=2")

	status, body, err := post(context.Background(), ep, []byte("<q/>"), tcfg, time.Second)
	if err != nil || status != 500 || string(body) != "<fault/>" {
		t.Fatalf("post = %d %q %v", status, body, err)
	}
	if got.Method != "POST" || got.URL.RequestURI() != "/scas/xacml?v=2" || got.Host != ep.Host || string(gotBody) != "<q/>" ||
		got.Header.Get("Content-Type") != "text/xml; charset=utf-8" || got.Header.Get("SOAPAction") != `""` || got.ContentLength != 4 {
		t.Errorf("service got %s %s host %q headers %v body %q", got.Method, got.URL.RequestURI(), got.Host, got.Header, gotBody)
	}

	other := tcfg.Clone()
	other.ServerName = "gums.example.org"
	var hostErr x509.HostnameError
	if _, _, err := post(context.Background(), ep, nil, other, time.Second); !errors.As(err, &hostErr) {
		t.Errorf("expected host name mismatch, got %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	hangEP, _ := url.Parse(srv.URL + "/hang")
	start := time.Now()
	if _, _, err := post(ctx, hangEP, nil, tcfg, time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging service: err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hanging service took %v, want about the 200 ms deadline", d)
	}
}

// FuzzReadResponse: any bytes from a service give a response within the
// limits or an error, never a panic.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		status, body, err := readResponse(bufio.NewReader(strings.NewReader(string(data))))
		if err != nil {
			return
		}
		if status < 200 || status > 999 || len(body) > MaxResponseBytes+1 {
			t.Fatalf("status %d, %d bytes", status, len(body))
		}
	})
}
