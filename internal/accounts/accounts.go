// Package accounts looks up local users and groups in the password and
// group files.
//
// It reads the files directly (through moby/sys/user) rather than through
// NSS: glexec is built without cgo so that no C code runs before main in a
// setuid process, which also means accounts that exist only in LDAP or SSSD
// are not seen. Paths are fields so that tests, and the private mount
// namespaces the integration suite uses, can point elsewhere.
package accounts

import (
	"errors"
	"fmt"
	"sort"

	"github.com/moby/sys/user"
)

// User is one password-file entry.
type User struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

// Group is one group-file entry.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// DB is a password and group database.
type DB struct {
	PasswdPath string // default /etc/passwd
	GroupPath  string // default /etc/group
}

// System is the machine's own database.
var System = &DB{PasswdPath: "/etc/passwd", GroupPath: "/etc/group"}

// ErrNotFound is returned (wrapped) when an entry does not exist.
var ErrNotFound = errors.New("not found")

func (db *DB) passwd() string {
	if db.PasswdPath == "" {
		return "/etc/passwd"
	}
	return db.PasswdPath
}

func (db *DB) group() string {
	if db.GroupPath == "" {
		return "/etc/group"
	}
	return db.GroupPath
}

func (db *DB) findUser(what string, match func(user.User) bool) (User, error) {
	found := false
	us, err := user.ParsePasswdFileFilter(db.passwd(), func(u user.User) bool {
		// Keep only the first match, as getpwnam does.
		if !found && match(u) {
			found = true
			return true
		}
		return false
	})
	if err != nil {
		return User{}, fmt.Errorf("reading %s: %w", db.passwd(), err)
	}
	if len(us) == 0 {
		return User{}, fmt.Errorf("user %s in %s: %w", what, db.passwd(), ErrNotFound)
	}
	u := us[0]
	return User{Name: u.Name, UID: u.Uid, GID: u.Gid, Home: u.Home, Shell: u.Shell}, nil
}

// LookupUser finds a user by name.
func (db *DB) LookupUser(name string) (User, error) {
	return db.findUser(fmt.Sprintf("%q", name), func(u user.User) bool { return u.Name == name })
}

// LookupUID finds a user by uid.
func (db *DB) LookupUID(uid int) (User, error) {
	return db.findUser(fmt.Sprint(uid), func(u user.User) bool { return u.Uid == uid })
}

func (db *DB) findGroup(what string, match func(user.Group) bool) (Group, error) {
	found := false
	gs, err := user.ParseGroupFileFilter(db.group(), func(g user.Group) bool {
		if !found && match(g) {
			found = true
			return true
		}
		return false
	})
	if err != nil {
		return Group{}, fmt.Errorf("reading %s: %w", db.group(), err)
	}
	if len(gs) == 0 {
		return Group{}, fmt.Errorf("group %s in %s: %w", what, db.group(), ErrNotFound)
	}
	g := gs[0]
	return Group{Name: g.Name, GID: g.Gid, Members: g.List}, nil
}

// LookupGroup finds a group by name.
func (db *DB) LookupGroup(name string) (Group, error) {
	return db.findGroup(fmt.Sprintf("%q", name), func(g user.Group) bool { return g.Name == name })
}

// LookupGID finds a group by gid.
func (db *DB) LookupGID(gid int) (Group, error) {
	return db.findGroup(fmt.Sprint(gid), func(g user.Group) bool { return g.Gid == gid })
}

// GroupList returns the gids user belongs to, as getgrouplist(3) does: the
// given primary gid first, then every group that lists the user as a
// member, without duplicates, in file order.
func (db *DB) GroupList(name string, primary int) ([]int, error) {
	gs, err := user.ParseGroupFileFilter(db.group(), func(g user.Group) bool {
		for _, m := range g.List {
			if m == name {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", db.group(), err)
	}
	out := []int{primary}
	seen := map[int]bool{primary: true}
	for _, g := range gs {
		if !seen[g.Gid] {
			seen[g.Gid] = true
			out = append(out, g.Gid)
		}
	}
	return out, nil
}

// SortedUnique returns gids sorted ascending without duplicates, the order
// LCMAPS keeps secondary gids in.
func SortedUnique(gids []int) []int {
	out := append([]int(nil), gids...)
	sort.Ints(out)
	j := 0
	for i, g := range out {
		if i == 0 || g != out[j-1] {
			out[j] = g
			j++
		}
	}
	return out[:j]
}
