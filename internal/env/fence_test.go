package env

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// envFuncs are the functions that read or change the process environment,
// by import path.
var envFuncs = map[string]map[string]bool{
	"os": {"Getenv": true, "LookupEnv": true, "Environ": true, "ExpandEnv": true,
		"Setenv": true, "Unsetenv": true, "Clearenv": true},
	"syscall": {"Getenv": true, "Environ": true, "Setenv": true, "Unsetenv": true, "Clearenv": true},
	"golang.org/x/sys/unix": {"Getenv": true, "Environ": true, "Setenv": true,
		"Unsetenv": true, "Clearenv": true},
}

// envCalls returns "file:line: pkg.Func" for every use of an envFuncs
// function in one file, following import renames; a dot import of one of
// those packages counts as a use.
func envCalls(fset *token.FileSet, f *ast.File) []string {
	local := map[string]string{} // local name -> import path
	var hits []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if envFuncs[path] == nil {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." {
			hits = append(hits, fset.Position(imp.Pos()).String()+": dot import of "+path)
			continue
		}
		local[name] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if path, ok := local[id.Name]; ok && id.Obj == nil && envFuncs[path][sel.Sel.Name] {
			hits = append(hits, fset.Position(sel.Pos()).String()+": "+path+"."+sel.Sel.Name)
		}
		return true
	})
	return hits
}

// TestOnlyEnvReadsTheEnvironment enforces the house rule that the process
// environment is read in one place, after hardening: no non-test file
// outside internal/env may touch it.
func TestOnlyEnvReadsTheEnvironment(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	envDir := filepath.Dir(self)
	root := filepath.Join(envDir, "..", "..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == envDir {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, h := range envCalls(fset, f) {
			t.Errorf("%s: only internal/env may read or change the process environment (HACKING.md)", h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("walked only %d files under %s: wrong module root?", files, root)
	}
}

// TestEnvCallsDetects proves the fence sees renamed imports and dot
// imports, and ignores a local variable that shadows nothing.
func TestEnvCallsDetects(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"plain", `package p; import "os"; var _ = os.Getenv("X")`, 1},
		{"renamed", `package p; import o "os"; func f() { o.LookupEnv("X"); o.Environ() }`, 2},
		{"syscall", `package p; import "syscall"; var _, _ = syscall.Getenv("X")`, 1},
		{"unix", `package p; import "golang.org/x/sys/unix"; var _, _ = unix.Getenv("X")`, 1},
		{"dot", `package p; import . "os"; var _ = Getenv("X")`, 1},
		{"clean", `package p; import "os"; var _ = os.Getpid()`, 0},
		{"other package", `package p; import os "example.com/os"; var _ = os.Getenv("X")`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", tc.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := envCalls(fset, f); len(got) != tc.want {
				t.Errorf("envCalls = %q, want %d hits", got, tc.want)
			}
		})
	}
}
