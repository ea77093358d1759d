package workloads

// jobIDs numbers a source's jobs prefix+"1", prefix+"2", …: adding one to
// the decimal digits in place costs less than formatting the count.
type jobIDs struct {
	buf   []byte // the prefix, then the last number's digits
	start int    // len(prefix)
}

func newJobIDs(prefix string) jobIDs {
	return jobIDs{buf: append([]byte(prefix), '0'), start: len(prefix)}
}

// next returns the next ID.
func (c *jobIDs) next() string {
	i := len(c.buf) - 1
	for ; i >= c.start && c.buf[i] == '9'; i-- {
		c.buf[i] = '0'
	}
	if i >= c.start {
		c.buf[i]++
	} else { // 9…9 + 1 = 10…0
		c.buf[c.start] = '1'
		c.buf = append(c.buf, '0')
	}
	return string(c.buf)
}
