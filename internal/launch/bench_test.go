package launch

import (
	"bytes"
	"encoding/json"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	raw, _ := json.Marshal(validRun())
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}
