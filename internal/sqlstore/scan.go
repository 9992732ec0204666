package sqlstore

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

// scanRows reads every row of rows with scan and closes rows: the one
// loop behind every list the store reads. The driver's error comes back
// as it is, so a transaction can still retry on it; reads outside one
// map it.
func scanRows[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// timeFormat is how every time travels to the database: fixed width and
// UTC, so that text comparison on SQLite is time comparison, and
// PostgreSQL parses it into TIMESTAMPTZ.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// ts formats t for a query parameter.
func ts(t time.Time) string { return t.UTC().Format(timeFormat) }

// tsPtr formats an optional time; nil stays NULL.
func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// timeScan scans a time from either engine: time.Time from PostgreSQL,
// text from SQLite.
type timeScan struct{ dst *time.Time }

func (s timeScan) Scan(v any) error {
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("sqlstore: unexpected NULL time")
	}
	*s.dst = *t
	return nil
}

// nullTimeScan scans an optional time; NULL leaves *dst nil.
type nullTimeScan struct{ dst **time.Time }

func (s nullTimeScan) Scan(v any) error {
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	*s.dst = t
	return nil
}

func parseTime(v any) (*time.Time, error) {
	var t time.Time
	var err error
	switch v := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		t, err = time.Parse(time.RFC3339Nano, v)
	case []byte:
		t, err = time.Parse(time.RFC3339Nano, string(v))
	default:
		return nil, fmt.Errorf("sqlstore: cannot scan %T as a time", v)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: bad stored time: %w", err)
	}
	t = t.UTC()
	return &t, nil
}

// jsonIDs encodes ids as the JSON array parameter of dialect.idList.
func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// mustJSON marshals values the store built itself (maps of strings,
// slices, shapes); they always encode.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: encoding %T: %v", v, err))
	}
	return string(b)
}

// encodeCursor makes an opaque cursor from a row's sort key.
func encodeCursor(key ...string) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of n key parts; a damaged or foreign cursor
// is a clear EINVALID.
func decodeCursor(field, c string, n int) ([]string, error) {
	bad := cohort.FieldError(field, "The page cursor is not valid: start again from the first page.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var key []string
	if err := json.Unmarshal(b, &key); err != nil || len(key) != n {
		return nil, bad
	}
	return key, nil
}

// likeContains makes a LIKE pattern matching s anywhere, with the LIKE
// wildcards in s escaped (use with ESCAPE '\').
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// prefixEnd is the exclusive upper bound of the keys starting with p in
// byte order: no name contains U+10FFFF, so every key with prefix p sorts
// below p+U+10FFFF.
func prefixEnd(p string) string { return p + "\U0010FFFF" }

// args collects query parameters and hands out their $n placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}
