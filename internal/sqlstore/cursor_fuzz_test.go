package sqlstore

import (
	"slices"
	"testing"

	"github.com/cohorthq/cohort"
)

// FuzzCursor feeds page cursors from outside (they arrive in query
// strings): any string decodes to the key parts asked for or a clear
// EINVALID naming the parameter, and a cursor the store made decodes to
// the key it was made from.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor("physiotherapists", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), 2)
	f.Add(encodeCursor("smith", "jane", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), 3)
	f.Add("", 1)
	f.Add("not base64!", 2)
	f.Add("W10", 0)                        // []
	f.Add("WyJhIiwxXQ", 2)                 // ["a",1]
	f.Add("eyJhIjoiYiJ9", 1)               // {"a":"b"}
	f.Add("WyJcdTAwMDAiLCJcdWQ4MDAiXQ", 2) // NUL and a lone surrogate
	f.Fuzz(func(t *testing.T, c string, n int) {
		n = n%4 + 1
		if n < 1 {
			n += 4
		}
		key, err := decodeCursor("after", c, n)
		if err != nil {
			if cohort.ErrorCode(err) != cohort.EINVALID || cohort.ErrorFields(err)["after"] == nil {
				t.Fatalf("decodeCursor(%q) = %v: want EINVALID on the after parameter", c, err)
			}
			return
		}
		if len(key) != n {
			t.Fatalf("decodeCursor(%q, %d) returned %d parts", c, n, len(key))
		}
		again, err := decodeCursor("after", encodeCursor(key...), n)
		if err != nil || !slices.Equal(again, key) {
			t.Fatalf("re-encoded cursor of %q decodes to %q, %v", key, again, err)
		}
	})
}
