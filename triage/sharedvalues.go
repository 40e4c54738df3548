package triage

import "encoding/binary"

// hitSets lets alerts that match the same matchers hold one list of the
// matchers' indexes between them. Like sharedSets it is bounded and
// invisible: lists are never modified, and equal lists are interchangeable.
type hitSets struct {
	byKey map[string]*[]int
}

// share returns a list equal to hits that other alerts may already hold;
// nil when hits is empty.
func (hs *hitSets) share(hits []int) *[]int {
	if len(hits) == 0 {
		return nil
	}
	var buf [64]byte
	key := buf[:0]
	for _, i := range hits {
		key = binary.AppendUvarint(key, uint64(i))
	}
	if have, ok := hs.byKey[string(key)]; ok {
		return have
	}
	if hs.byKey == nil || len(hs.byKey) >= maxSharedSets {
		hs.byKey = make(map[string]*[]int)
	}
	list := hits
	hs.byKey[string(key)] = &list
	return &list
}

// sharedText lets alerts hold one copy of a string many of them carry (a
// rule's generatorURL), bounded and invisible as sharedSets is.
type sharedText struct {
	byValue map[string]string
}

// share returns a string equal to v that other alerts may already hold, or v.
func (st *sharedText) share(v string) string {
	if v == "" {
		return v
	}
	if have, ok := st.byValue[v]; ok {
		return have
	}
	if st.byValue == nil || len(st.byValue) >= maxSharedSets {
		st.byValue = make(map[string]string)
	}
	st.byValue[v] = v
	return v
}
