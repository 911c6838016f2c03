// Package lcmapsdb reads lcmaps.db, the policy file of LCMAPS, the way
// LCMAPS 1.6 reads it, and reports problems in LCMAPS's own words.
//
// The grammar (shared/reference/glexec-lcmaps-reference.md §5): variables
// (`path = /dir`, plugin definitions `name = "module" "args"` whose adjacent
// strings are joined with one space, aliases `a = b`), then policies
// (`name:` labels at the start of a line) holding rules `a -> b`,
// `a -> b | c` and `~a -> b`. Newlines do not matter to the grammar, `#`
// starts a comment.
//
// Diagnostics have LCMAPS's shape `<file>:<line>: [<level>] <message>`, its
// wording (typos included) and its line numbers: LCMAPS reports the line the
// lexer is on when the parser acts, which is often the line of the token
// after the construct; this parser reads ahead exactly when LCMAPS's bison
// parser does, so the numbers agree. Tests check this against the real
// library (internal/lcmapsoracle).
//
// The package only parses and checks the file: it resolves no plugin and
// decides nothing about credentials. Where LCMAPS misbehaves on a valid
// file (it loops forever when an alias turns a rule into a self-loop) the
// policy engine guards against it; this package reproduces LCMAPS's
// verdicts on the file itself.
package lcmapsdb
