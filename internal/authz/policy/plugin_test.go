package policy

import (
	"reflect"
	"testing"
)

func TestCredDataSemantics(t *testing.T) {
	var cd CredData
	cd.AddUID(20001)
	cd.AddUID(20002)
	cd.AddPGID(20001)
	for _, g := range []int{65000, 20001, 30002, 20001, 65000} {
		cd.AddSGID(g)
	}
	if !reflect.DeepEqual(cd.UIDs, []int{20001, 20002}) {
		t.Errorf("uids are a list, got %v", cd.UIDs)
	}
	if !reflect.DeepEqual(cd.SGIDs, []int{20001, 30002, 65000}) {
		t.Errorf("sgids must be a sorted set, got %v", cd.SGIDs)
	}
	released := 0
	cd.OnReset(func() { released++ })
	cd.Reset()
	if released != 1 || cd.UIDs != nil || cd.SGIDs != nil {
		t.Errorf("Reset: released=%d data=%+v", released, cd)
	}
	cd.OnReset(func() { released++ })
	cd.Keep()
	cd.Reset()
	if released != 1 {
		t.Errorf("Keep must hand resources over, released=%d", released)
	}
}
