package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

// Sign-in failure counters (cohort.SignInThrottle). They live in the
// database so that every instance counts the same failures. Keys are
// stored as tokenHash(key): an email someone typed or a client address is
// never kept in clear text, and any text (NUL, broken UTF-8) is storable.

// SignInFailures returns each key's failures within its current window.
func (db *DB) SignInFailures(ctx context.Context, keys []string, window time.Duration) ([]int, error) {
	out := make([]int, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var p args
	marks := make([]string, len(keys))
	index := map[string][]int{}
	for i, k := range keys {
		h := tokenHash(k)
		marks[i] = p.add(h)
		index[h] = append(index[h], i)
	}
	cutoff := p.add(ts(now().Add(-window)))
	rows, err := db.read.QueryContext(ctx, `SELECT key_hash, failures FROM signin_throttle
		WHERE key_hash IN (`+strings.Join(marks, ", ")+`) AND window_start > `+cutoff, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, mapError(err)
		}
		for _, i := range index[h] {
			out[i] = n
		}
	}
	return out, mapError(rows.Err())
}

// RecordSignInFailure adds one failure to each key, in one transaction so
// concurrent failures on any instance all count. Windows long past are
// deleted on the way, so guessed emails do not pile up.
func (db *DB) RecordSignInFailure(ctx context.Context, keys []string, window time.Duration) error {
	return db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		cutoff := ts(t.now.Add(-window))
		for _, k := range keys {
			if _, err := t.exec(`INSERT INTO signin_throttle (key_hash, window_start, failures) VALUES ($1, $2, 1)
				ON CONFLICT (key_hash) DO UPDATE SET
					failures = CASE WHEN signin_throttle.window_start <= $3 THEN 1 ELSE signin_throttle.failures + 1 END,
					window_start = CASE WHEN signin_throttle.window_start <= $3 THEN excluded.window_start ELSE signin_throttle.window_start END`,
				tokenHash(k), ts(t.now), cutoff); err != nil {
				return err
			}
		}
		_, err := t.exec(`DELETE FROM signin_throttle WHERE window_start < $1`, cutoff)
		return err
	})
}

// ClearSignInFailures forgets the failures of keys.
func (db *DB) ClearSignInFailures(ctx context.Context, keys []string) error {
	return db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		for _, k := range keys {
			if _, err := t.exec(`DELETE FROM signin_throttle WHERE key_hash = $1`, tokenHash(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

var _ cohort.SignInThrottle = (*DB)(nil)
