package policy

import (
	"errors"
	"strconv"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// fake is a test plugin configured from its lcmaps.db arguments:
// "uid N", "gid N", "sgid N", "dn X" add credential data; "fail" makes it
// fail, "fail-system" fail with a System error. Every run is recorded.
type fake struct {
	name string
	args []string
	runs *[]string
}

var errFake = errors.New("failed by design")

func (f *fake) Run(req *Request, cd *CredData) error {
	*f.runs = append(*f.runs, f.name)
	for i := 0; i+1 < len(f.args); i += 2 {
		n, _ := strconv.Atoi(f.args[i+1])
		switch f.args[i] {
		case "uid":
			cd.AddUID(n)
		case "gid":
			cd.AddPGID(n)
		case "sgid":
			cd.AddSGID(n)
		case "dn":
			cd.DN = f.args[i+1]
		}
	}
	for _, a := range f.args {
		switch a {
		case "fail":
			return failure.Wrap(failure.Authz, "fake-denied", f.name, errFake)
		case "fail-system":
			return failure.Wrap(failure.System, "fake-broken", f.name, errFake)
		case "fail-plain":
			return errFake
		}
	}
	return nil
}

type verifyingFake struct{ fake }

func (f *verifyingFake) Verify(req *Request, cd *CredData) error {
	*f.runs = append(*f.runs, "verify:"+f.name)
	return f.Run(req, cd)
}

// fakeRegistry registers fake_<x>.mod for any x used, recording runs.
func fakeRegistry(runs *[]string, modules ...string) Registry {
	reg := Registry{}
	for _, m := range modules {
		name := strings.TrimSuffix(m, ".mod")
		reg[m] = func(args []string, env *Env) (Plugin, error) {
			for _, a := range args {
				if a == "bad-arg" {
					return nil, errors.New("Unknown argument for plugin: bad-arg (failure)")
				}
			}
			if strings.HasPrefix(name, "v_") {
				return &verifyingFake{fake{name: name, args: args, runs: runs}}, nil
			}
			return &fake{name: name, args: args, runs: runs}, nil
		}
	}
	return reg
}
