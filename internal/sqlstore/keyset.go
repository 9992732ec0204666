package sqlstore

import (
	"strings"
)

// keyset pages a list by its sort key: the cursor of a page edge is the
// edge row's key, and the next page is "rows whose key is greater". Rows
// inserted meanwhile are neither skipped nor repeated.
type keyset struct {
	cols []string // the sort key, unique together (ends in id)
}

// query builds the page query: sel is "SELECT … FROM …", where the filter.
// It asks for one row more than limit to learn whether more follow.
func (k keyset) query(sel string, where []string, p *args, limit, offset int, after, before string) (string, error) {
	w := append([]string(nil), where...)
	cols := strings.Join(k.cols, ", ")
	order := cols
	switch {
	case after != "":
		key, err := decodeCursor("after", after, len(k.cols))
		if err != nil {
			return "", err
		}
		w = append(w, "("+cols+") > ("+k.params(p, key)+")")
	case before != "":
		key, err := decodeCursor("before", before, len(k.cols))
		if err != nil {
			return "", err
		}
		w = append(w, "("+cols+") < ("+k.params(p, key)+")")
		order = strings.Join(k.cols, " DESC, ") + " DESC"
	}
	q := sel + " WHERE " + strings.Join(w, " AND ") + " ORDER BY " + order
	switch {
	case limit > 0:
		q += " LIMIT " + p.add(limit+1)
	case offset > 0:
		// SQLite needs a LIMIT before OFFSET; PostgreSQL refuses LIMIT -1.
		q += " LIMIT " + p.add(int64(1)<<62)
	}
	if offset > 0 {
		q += " OFFSET " + p.add(offset)
	}
	return q, nil
}

func (k keyset) params(p *args, key []string) string {
	ph := make([]string, len(key))
	for i, v := range key {
		ph[i] = p.add(v)
	}
	return strings.Join(ph, ", ")
}

// pageOf trims the extra row, restores ascending order after a backwards
// query, and makes the neighbouring pages' cursors.
func pageOf[T any](limit int, items []T, keys [][]string, after, before string) (out []T, next, prev string) {
	more := limit > 0 && len(items) > limit
	if more {
		items, keys = items[:limit], keys[:limit]
	}
	backwards := after == "" && before != ""
	if backwards {
		reverse(items)
		reverse(keys)
	}
	if len(items) > 0 {
		if more && !backwards || backwards {
			next = encodeCursor(keys[len(keys)-1]...)
		}
		if more && backwards || after != "" {
			prev = encodeCursor(keys[0]...)
		}
	}
	return items, next, prev
}
