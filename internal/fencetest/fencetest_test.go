package fencetest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUses proves the fence sees renamed imports, dot imports and type
// names, and ignores other packages of the same name.
func TestUses(t *testing.T) {
	names := Names{
		"os":                    {"Getenv": true, "LookupEnv": true, "Environ": true},
		"syscall":               {"Getenv": true, "Credential": true},
		"golang.org/x/sys/unix": {"Getenv": true},
	}
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"plain", `package p; import "os"; var _ = os.Getenv("X")`, 1},
		{"renamed", `package p; import o "os"; func f() { o.LookupEnv("X"); o.Environ() }`, 2},
		{"syscall", `package p; import "syscall"; var _, _ = syscall.Getenv("X")`, 1},
		{"type", `package p; import "syscall"; var _ = &syscall.Credential{Uid: 1}`, 1},
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
			if got := Uses(fset, f, names); len(got) != tc.want {
				t.Errorf("Uses = %q, want %d hits", got, tc.want)
			}
		})
	}
}

// TestWalk checks what Walk reads and skips.
func TestWalk(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := `package p; import "os"; var _ = os.Getenv("X")`
	write("cmd/x/main.go", bad)             // counted
	write("internal/env/env.go", bad)       // allowed
	write("internal/a/a_test.go", bad)      // test file
	write("internal/a/testdata/t.go", bad)  // testdata
	write("integration/world.go", bad)      // harness
	write("internal/a/a.go", "package a\n") // clean
	hits, files, err := Walk(root, []string{filepath.Join(root, "internal", "env")}, Names{"os": {"Getenv": true}})
	if err != nil {
		t.Fatal(err)
	}
	if files != 2 || len(hits) != 1 || !strings.Contains(hits[0], filepath.Join("cmd", "x", "main.go")) {
		t.Errorf("Walk = %q over %d files, want one hit in cmd/x/main.go over 2 files", hits, files)
	}
}
