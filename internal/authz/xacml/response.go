package xacml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Limits on a service answer. A GUMS or SCAS response is two to three
// kilobytes; anything far larger is a broken or hostile service.
const (
	// MaxResponseBytes bounds the HTTP body read from a service.
	MaxResponseBytes = 256 << 10
	// maxObligations bounds the obligations of one result.
	maxObligations = 16
	// maxAssignments bounds the attribute assignments of one obligation.
	maxAssignments = 64
	// maxSecondaryGIDs bounds the secondary gids one mapping may carry
	// (the kernel's NGROUPS_MAX is larger, but no grid mapping has more).
	maxSecondaryGIDs = 64
	// maxUsernameLen is the longest account name accepted (LOGIN_NAME_MAX
	// is 256, useradd stops at 32).
	maxUsernameLen = 32
	// maxMessageLen bounds a status message or fault string copied into
	// errors and log lines.
	maxMessageLen = 256
)

// Decision is the XACML decision of a result.
type Decision int

const (
	// Deny is the zero value so that a forgotten decision never permits.
	Deny Decision = iota
	Permit
	Indeterminate
	NotApplicable
)

var decisionNames = []string{"Deny", "Permit", "Indeterminate", "NotApplicable"}

func (d Decision) String() string {
	if d >= 0 && int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// ParseDecision reads the text of a Decision element.
func ParseDecision(s string) (Decision, bool) {
	for i, n := range decisionNames {
		if s == n {
			return Decision(i), true
		}
	}
	return Deny, false
}

// Mapping is what the obligations of a Permit say about the local account.
// UID and GID are -1 when the service did not send the uidgid obligation.
type Mapping struct {
	Username string
	UID, GID int
	SGIDs    []int
}

// Response is a parsed service answer.
type Response struct {
	Decision      Decision
	StatusCode    string // XACML status code of the result
	StatusMessage string
	Mapping       Mapping // from the obligations that apply to Decision
}

// SOAP/SAML/XACML document shapes. Element names are matched with their
// namespaces, so a look-alike in another namespace is not accepted.
type envelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Bodies  []struct {
		Faults    []soapFault    `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		Responses []samlResponse `xml:"urn:oasis:names:tc:SAML:2.0:protocol Response"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type soapFault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
}

type samlStatus struct {
	Code struct {
		Value string `xml:"Value,attr"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusCode"`
	Message string `xml:"urn:oasis:names:tc:SAML:2.0:protocol StatusMessage"`
}

type samlResponse struct {
	Status     samlStatus  `xml:"urn:oasis:names:tc:SAML:2.0:protocol Status"`
	Assertions []assertion `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
}

// assertion accepts both ways the SAML profile of XACML is written: the
// generic saml:Statement with xsi:type XACMLAuthzDecisionStatementType
// (OpenSAML, hence GUMS and SCAS), and the XACMLAuthzDecisionStatement
// element itself.
type assertion struct {
	Statements []statement `xml:"urn:oasis:names:tc:SAML:2.0:assertion Statement"`
	Decisions  []statement `xml:"urn:oasis:xacml:2.0:saml:assertion:schema:os XACMLAuthzDecisionStatement"`
}

type statement struct {
	Responses []xacmlResponse `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Response"`
}

type xacmlResponse struct {
	Results []xacmlResult `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Result"`
}

type xacmlResult struct {
	Decision string `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Decision"`
	Status   struct {
		Code struct {
			Value string `xml:"Value,attr"`
		} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os StatusCode"`
		Message string `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os StatusMessage"`
	} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Status"`
	Obligations []struct {
		Items []obligation `xml:"urn:oasis:names:tc:xacml:2.0:policy:schema:os Obligation"`
	} `xml:"urn:oasis:names:tc:xacml:2.0:policy:schema:os Obligations"`
}

type obligation struct {
	ID          string `xml:"ObligationId,attr"`
	FulfillOn   string `xml:"FulfillOn,attr"`
	Assignments []struct {
		ID       string `xml:"AttributeId,attr"`
		DataType string `xml:"DataType,attr"`
		Value    string `xml:",chardata"`
	} `xml:"urn:oasis:names:tc:xacml:2.0:policy:schema:os AttributeAssignment"`
}

// malformed returns the error for a structurally bad answer.
func malformed(format string, args ...any) *failure.Error {
	return failure.New(failure.Authz, ReasonMalformed, "mapping service response", fmt.Sprintf(format, args...))
}

// ParseResponse reads a SOAP 1.1 envelope holding a SAML 2.0 Response with
// one XACML decision. It returns a *failure.Error with ReasonMalformed for
// anything that is not a well-formed answer of the profile, and ReasonFault
// for a SOAP fault or a SAML status other than Success. A Deny,
// NotApplicable or Indeterminate decision is a valid Response, not an error.
func ParseResponse(data []byte) (*Response, error) {
	if len(data) > MaxResponseBytes {
		return nil, malformed("response is larger than %d bytes", MaxResponseBytes)
	}
	var env envelope
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&env); err != nil {
		return nil, malformed("not a SOAP envelope: %s", clip(err.Error()))
	}
	if len(env.Bodies) != 1 {
		return nil, malformed("envelope has %d bodies, want 1", len(env.Bodies))
	}
	body := env.Bodies[0]
	if len(body.Faults) > 0 {
		f := body.Faults[0]
		return nil, failure.New(failure.Authz, ReasonFault, "mapping service response",
			fmt.Sprintf("SOAP fault %q: %s", clip(f.Code), clip(f.String)))
	}
	if len(body.Responses) != 1 {
		return nil, malformed("body has %d SAML responses, want 1", len(body.Responses))
	}
	sr := body.Responses[0]
	if code := strings.TrimSpace(sr.Status.Code.Value); code != StatusSuccess {
		return nil, failure.New(failure.Authz, ReasonFault, "mapping service response",
			fmt.Sprintf("SAML status %q: %s", clip(code), clip(sr.Status.Message)))
	}
	var stmts []statement
	for _, a := range sr.Assertions {
		stmts = append(stmts, a.Statements...)
		stmts = append(stmts, a.Decisions...)
	}
	if len(stmts) != 1 {
		return nil, malformed("response has %d decision statements, want 1", len(stmts))
	}
	if len(stmts[0].Responses) != 1 {
		return nil, malformed("decision statement has %d XACML responses, want 1", len(stmts[0].Responses))
	}
	results := stmts[0].Responses[0].Results
	if len(results) != 1 {
		return nil, malformed("XACML response has %d results, want 1", len(results))
	}
	return parseResult(&results[0])
}

func parseResult(res *xacmlResult) (*Response, error) {
	d, ok := ParseDecision(strings.TrimSpace(res.Decision))
	if !ok {
		return nil, malformed("unknown decision %q", clip(res.Decision))
	}
	r := &Response{
		Decision:      d,
		StatusCode:    clip(strings.TrimSpace(res.Status.Code.Value)),
		StatusMessage: clip(strings.TrimSpace(res.Status.Message)),
		Mapping:       Mapping{UID: -1, GID: -1},
	}
	if len(res.Obligations) > 1 {
		return nil, malformed("result has %d Obligations elements, want at most 1", len(res.Obligations))
	}
	if len(res.Obligations) == 0 {
		return r, nil
	}
	obs := res.Obligations[0].Items
	if len(obs) > maxObligations {
		return nil, malformed("result has %d obligations, limit %d", len(obs), maxObligations)
	}
	seen := map[string]bool{}
	for i := range obs {
		ob := &obs[i]
		if ob.FulfillOn != "Permit" && ob.FulfillOn != "Deny" {
			return nil, malformed("obligation %q has FulfillOn %q", clip(ob.ID), clip(ob.FulfillOn))
		}
		if ob.FulfillOn != "Permit" || d != Permit {
			// Only a Permit's obligations matter here: they give the
			// account. A Deny is a refusal whatever it asks for.
			continue
		}
		if seen[ob.ID] {
			return nil, malformed("obligation %q appears twice", clip(ob.ID))
		}
		seen[ob.ID] = true
		if len(ob.Assignments) > maxAssignments {
			return nil, malformed("obligation %q has %d assignments, limit %d", clip(ob.ID), len(ob.Assignments), maxAssignments)
		}
		if err := r.Mapping.apply(ob); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// apply fills m from one obligation. An obligation this client does not
// know makes the whole answer unusable: XACML requires a PEP that cannot
// fulfil an obligation to refuse, and the request advertised what it
// supports.
func (m *Mapping) apply(ob *obligation) error {
	values := func(id string) ([]string, error) {
		var vs []string
		for _, a := range ob.Assignments {
			if a.ID != id {
				return nil, malformed("obligation %q has unexpected attribute %q", clip(ob.ID), clip(a.ID))
			}
			vs = append(vs, strings.TrimSpace(a.Value))
		}
		return vs, nil
	}
	switch ob.ID {
	case ObligationUsername:
		vs, err := values(AttrUsername)
		if err != nil {
			return err
		}
		if len(vs) != 1 {
			return malformed("username obligation has %d values, want 1", len(vs))
		}
		if !validUsername(vs[0]) {
			return malformed("username obligation value %q is not an account name", clip(vs[0]))
		}
		m.Username = vs[0]
	case ObligationUIDGID:
		var uids, gids []string
		for _, a := range ob.Assignments {
			switch a.ID {
			case AttrPosixUID:
				uids = append(uids, strings.TrimSpace(a.Value))
			case AttrPosixGID:
				gids = append(gids, strings.TrimSpace(a.Value))
			default:
				return malformed("uidgid obligation has unexpected attribute %q", clip(a.ID))
			}
		}
		if len(uids) != 1 || len(gids) != 1 {
			return malformed("uidgid obligation has %d uids and %d gids, want 1 each", len(uids), len(gids))
		}
		var err error
		if m.UID, err = parseID("posix-uid", uids[0]); err != nil {
			return err
		}
		if m.GID, err = parseID("posix-gid", gids[0]); err != nil {
			return err
		}
	case ObligationSecondaryGIDs:
		vs, err := values(AttrPosixGID)
		if err != nil {
			return err
		}
		if len(vs) == 0 || len(vs) > maxSecondaryGIDs {
			return malformed("secondary-gids obligation has %d gids, want 1 to %d", len(vs), maxSecondaryGIDs)
		}
		for _, v := range vs {
			g, err := parseID("posix-gid", v)
			if err != nil {
				return err
			}
			m.SGIDs = append(m.SGIDs, g)
		}
	default:
		return failure.New(failure.Authz, ReasonObligation, "mapping service response",
			fmt.Sprintf("obligation %q is not supported", clip(ob.ID)))
	}
	return nil
}

// parseID reads a POSIX id: decimal, below (uid_t)-1, which means "none".
func parseID(what, s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, malformed("%s value %q is not a POSIX id", what, clip(s))
	}
	return int(n), nil
}

// validUsername accepts POSIX's portable account-name characters only: no
// leading "-" (option injection), no "/" or ":" (path and passwd-field
// separators), no whitespace or control characters (log forging).
func validUsername(s string) bool {
	if s == "" || len(s) > maxUsernameLen || s[0] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// clip bounds service-supplied text copied into errors and logs.
func clip(s string) string {
	if len(s) > maxMessageLen {
		s = s[:maxMessageLen] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
