// Package config reads glexec.conf.
//
// The file is the one gLExec has always read: an ini file whose settings
// live in a [glexec] section, "key = value" lines, '#' or ';' comment lines,
// bare values, comma-separated lists. Every key gLExec 0.9 documented is
// accepted with its old meaning and default; the sandbox settings are new
// and live in their own [sandbox] section, the credential validation
// settings are new keys in [glexec].
//
// Parsing is strict where a mistake would weaken the node and lenient where
// it would only break old files: a malformed line, an invalid value, a key
// given twice, or a feature glexec does not implement (use_lcas = yes) is a
// System (202) error naming file:line and the fix; an unknown key or
// section is returned as a Warning for the caller to log, because sites
// carry keys of older gLExec versions in their files.
//
// CheckFilePerms is the trust check for the files glexec reads as root:
// glexec.conf, lcmaps.db and the CA directory must be owned by root and
// writable by nobody else, nor may any directory above them be. CheckTree
// applies the same rule to everything inside a directory (CA files, CRLs,
// vomsdir .lsc files).
//
// The package does not read the environment and does not look anything up
// (accounts in the white lists are names, resolved later).
package config
