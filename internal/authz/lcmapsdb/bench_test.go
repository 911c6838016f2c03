package lcmapsdb

import (
	"os"
	"testing"
)

// TestShippedShapes parses the OSG and EMI lcmaps.db layouts quoted in the
// reference notes: both must be usable without a diagnostic.
func TestShippedShapes(t *testing.T) {
	for _, name := range []string{"testdata/osg-lcmaps.db", "testdata/emi-lcmaps.db"} {
		db, diags, err := ReadFile(name)
		if err != nil || len(diags) != 0 {
			t.Errorf("%s: %v %q", name, err, render(diags))
			continue
		}
		if _, err := db.Plugins(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/emi-lcmaps.db")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, _, err := Parse("lcmaps.db", src); err != nil {
			b.Fatal(err)
		}
	}
}
