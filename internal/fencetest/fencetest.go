// Package fencetest enforces the house rules that confine a capability to
// one package ("only internal/env reads the environment", "only
// internal/privop changes identities"). It finds, in the module's non-test
// Go files, every use of listed package-level names (functions, types,
// variables) of listed import paths, following import renames; a dot
// import of a listed path counts as a use. It is used by tests only.
package fencetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// Names maps an import path to the names of it that are fenced.
type Names map[string]map[string]bool

// Uses returns "file:line: path.Name" for every use of names in one file.
func Uses(fset *token.FileSet, f *ast.File, names Names) []string {
	local := map[string]string{} // local name -> import path
	var hits []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if names[p] == nil {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." {
			hits = append(hits, fset.Position(imp.Pos()).String()+": dot import of "+p)
			continue
		}
		local[name] = p
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
		if p, ok := local[id.Name]; ok && id.Obj == nil && names[p][sel.Sel.Name] {
			hits = append(hits, fset.Position(sel.Pos()).String()+": "+p+"."+sel.Sel.Name)
		}
		return true
	})
	return hits
}

// Walk parses every non-test Go file below root, except in the allowed
// directories (absolute, cleaned), testdata, vendor, hidden directories
// and root/integration (the end-to-end harness runs the binaries as other
// accounts; it is not part of them), and returns all uses of names and the
// number of files read.
func Walk(root string, allowed []string, names Names) (hits []string, files int, err error) {
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" ||
				p == filepath.Join(root, "integration")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		for _, a := range allowed {
			if filepath.Dir(p) == a {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		hits = append(hits, Uses(fset, f, names)...)
		return nil
	})
	return hits, files, err
}
