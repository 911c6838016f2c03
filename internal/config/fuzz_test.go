package config

import (
	"errors"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

// FuzzParse: any input either parses or fails with a classified System
// error naming file:line; it never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[glexec]\nlinger = yes\nuser_white_list = pilot, .atlas\n",
		"[glexec]\n[sandbox]\ncpu_max = 200000 100000\nmemory_max = 1G\n",
		"[dummy]\n[glexec]\nlock_mechanism=fcntl\n",
		"linger = yes\n",
		"[glexec\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse("f.conf", data)
		if err != nil {
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Class != failure.System || fe.Subject == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
	})
}
