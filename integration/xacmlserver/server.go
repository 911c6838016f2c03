package xacmlserver

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Path is the GUMS service path; clients may use any path.
const Path = "/gums/services/GUMSXACMLAuthorizationServicePort"

// Account is what an account name resolves to in the obligations.
type Account struct {
	UID, GID int
	SGIDs    []int
}

// Server is one mapping service.
type Server struct {
	PKI  *PKI
	Cred *Cred // the service certificate

	// Knobs; safe to change while serving.
	Delay     atomic.Int64 // nanoseconds to wait before answering
	Malformed atomic.Bool  // answer with a truncated document
	Fault     atomic.Bool  // answer with a SOAP fault
	DenyAll   atomic.Bool  // answer Deny to everyone
	// Indeterminate answers Indeterminate with a processing-error status,
	// as a service whose database is unreachable does.
	Indeterminate atomic.Bool
	// OmitUIDGID sends only the username obligation.
	OmitUIDGID atomic.Bool
	// Unavailable answers that many requests with HTTP 503, as an
	// overloaded service behind a proxy does, counting down.
	Unavailable atomic.Int64

	// Requests counts queries that reached the handler; Conns counts
	// accepted connections.
	Requests atomic.Int64
	Conns    atomic.Int64

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	srv      *http.Server
	gridmap  []mapLine
	accounts map[string]Account
	last     *Query
}

type mapLine struct{ pattern, account string }

// New starts a service on 127.0.0.1 with a certificate for the given
// names (DNS names and IP literals).
func New(pki *PKI, names ...string) (*Server, error) {
	var dns []string
	var ips []net.IP
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	cred, err := pki.Server(firstOr(names, "gums.test"), dns, ips)
	if err != nil {
		return nil, err
	}
	s := &Server{PKI: pki, Cred: cred, accounts: map[string]Account{}}
	if err := s.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}

// URL is the service endpoint.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "https://" + s.addr + Path
}

// Addr is host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

func (s *Server) listen(addr string) error {
	tcfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{s.Cred.Cert.Raw}, PrivateKey: s.Cred.Key}},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS12,
		// Grid clients present host certificates or proxies; Go's verifier
		// rejects proxies, so chains are checked here.
		VerifyPeerCertificate: s.verifyClient,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake failures are the point of some tests
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.Conns.Add(1)
			}
		},
	}
	srv.SetKeepAlivesEnabled(true)
	s.mu.Lock()
	s.addr, s.ln, s.srv = ln.Addr().String(), ln, srv
	s.mu.Unlock()
	go srv.Serve(tls.NewListener(ln, tcfg))
	return nil
}

// Down closes the listener: connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up listens again on the same address.
func (s *Server) Up() error {
	s.mu.Lock()
	running, addr := s.srv != nil, s.addr
	s.mu.Unlock()
	if running {
		return nil
	}
	return s.listen(addr)
}

// Close stops the service for good.
func (s *Server) Close() { s.Down() }

// SetAccount defines what an account name maps to.
func (s *Server) SetAccount(name string, a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[name] = a
}

// LoadGridmap reads a grid-mapfile: lines `"<DN or FQAN>" account`, first
// match wins; an FQAN line matches the primary FQAN, a DN line the subject.
func (s *Server) LoadGridmap(r io.Reader) error {
	var lines []mapLine
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		if l[0] != '"' {
			return fmt.Errorf("grid-mapfile line %d: pattern must be quoted", n)
		}
		end := strings.IndexByte(l[1:], '"')
		if end < 0 {
			return fmt.Errorf("grid-mapfile line %d: unterminated quote", n)
		}
		pat, rest := l[1:1+end], strings.Fields(l[2+end:])
		if len(rest) != 1 {
			return fmt.Errorf("grid-mapfile line %d: want one account", n)
		}
		lines = append(lines, mapLine{pat, rest[0]})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.gridmap = lines
	s.mu.Unlock()
	return nil
}

// LoadGridmapFile reads a grid-mapfile from disk.
func (s *Server) LoadGridmapFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.LoadGridmap(f)
}

// LastQuery returns the last query parsed, nil before the first.
func (s *Server) LastQuery() *Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Server) lookup(q *Query) (string, Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.gridmap {
		if l.pattern == q.SubjectID || (q.PrimaryFQAN != "" && l.pattern == q.PrimaryFQAN) {
			a, ok := s.accounts[l.account]
			if !ok {
				// An account unknown to the service still maps; the node
				// decides whether it exists (this is how the node's
				// "account does not exist" case is provoked).
				a = Account{UID: 59999, GID: 59999}
			}
			return l.account, a, true
		}
	}
	return "", Account{}, false
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	if d := time.Duration(s.Delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if s.Unavailable.Add(-1) >= 0 {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return
	}
	s.Unavailable.Store(0)
	if r.Method != http.MethodPost {
		http.Error(w, "POST a SOAP envelope", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if s.Malformed.Load() {
		io.WriteString(w, `<?xml version="1.0"?><soap:Envelope xmlns:soap="`+nsSOAP+`"><soap:Body><samlp:Response`)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	q, err := ParseQuery(body)
	if err != nil || s.Fault.Load() {
		if err == nil {
			err = errors.New("service configured to fail")
		}
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, faultXML("soap:Client", err.Error()))
		return
	}
	s.mu.Lock()
	s.last = q
	s.mu.Unlock()
	if q.ResourceType() == "" || q.ActionType() == "" {
		io.WriteString(w, responseXML(q, "NotApplicable", "", Account{}, false))
		return
	}
	if s.Indeterminate.Load() {
		io.WriteString(w, responseXML(q, "Indeterminate", "", Account{}, false))
		return
	}
	if s.DenyAll.Load() {
		io.WriteString(w, responseXML(q, "Deny", "", Account{}, false))
		return
	}
	name, acct, ok := s.lookup(q)
	if !ok {
		io.WriteString(w, responseXML(q, "NotApplicable", "", Account{}, false))
		return
	}
	io.WriteString(w, responseXML(q, "Permit", name, acct, !s.OmitUIDGID.Load()))
}

// verifyClient accepts a certificate issued by the CA, or a chain of RFC
// 3820 proxies ending in one.
func (s *Server) verifyClient(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) == 0 {
		return errors.New("no client certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	i := 0
	for ; i < len(certs)-1 && isProxy(certs[i]); i++ {
		if err := certs[i+1].CheckSignature(certs[i].SignatureAlgorithm, certs[i].RawTBSCertificate, certs[i].Signature); err != nil {
			return fmt.Errorf("proxy %d not signed by its issuer: %w", i, err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.PKI.CA.Cert)
	inter := x509.NewCertPool()
	for _, c := range certs[i+1:] {
		inter.AddCert(c)
	}
	_, err := certs[i].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}
