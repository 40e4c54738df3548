package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Paging end to end: an alert goes into the real Alertmanager, which sends
// it to Klaxon; Klaxon opens a SEV1 incident and pages the people of the
// escalation policy drill-oncall through webhook receivers in this test
// process, which record every page and answer as each test wants (200,
// 400, 500, or not at all). Each subtest runs its own Klaxon and
// Alertmanager, in parallel with the others.
//
// A page's groupKey is its intent ID, a pure function of the decision
// (triage/escalation.go); receivers deduplicate on it. What is asserted:
// a page whose delivery Klaxon journaled (its "paged" timeline event) is
// never sent again, not even across kill -9; a page whose delivery was cut
// off by the kill may come again, always under the same groupKey.
//
// "Nothing more arrives" after an acknowledgement is checked by waiting one
// step period more than the next page would have needed: that is the only
// wait on the clock. Every other check follows the incident's timeline,
// which the journal orders.

// The file's fixed names: the service and escalation policy of
// testdata/paging-rules.yml, and the fallback receiver of testdata/oncall.yml.
const (
	drillService  = "drill"
	drillPolicy   = "drill-oncall"
	fallbackName  = "fallback"
	notifyTimeout = "30s"
	// quietMargin is added to a step period when checking that nothing more
	// is paged: room for a page that was due to be delivered.
	quietMargin = 3 * time.Second
)

func TestPaging(t *testing.T) {
	t.Parallel()
	t.Run("EscalatesUntilAckLink", testEscalatesUntilAckLink)
	t.Run("AckThroughAPI", testAckThroughAPI)
	t.Run("Kill9BetweenSteps", testKill9BetweenSteps)
	t.Run("HungReceiverHoldsNobodyElse", testHungReceiver)
	t.Run("FailedStepMovesOn", testFailedStepMovesOn)
	t.Run("SilenceHoldsTheEscalation", testSilenceHoldsTheEscalation)
}

// The on-call person (through a schedule) gets exactly one page; with no
// acknowledgement the next step's person gets one after escalate_after;
// opening the ack link (GET) acknowledges nothing, posting it does, and
// nothing more is paged.
func testEscalatesUntilAckLink(t *testing.T) {
	t.Parallel()
	const step = 10 * time.Second
	d := startDrill(t, nil, oncallSetup{
		People:    []string{"p1", "p2"},
		Schedules: map[string][]string{"drill-primary": {"p1"}},
		Steps: []oncallStep{
			{After: step.String(), Schedules: []string{"drill-primary"}},
			{After: step.String(), People: []string{"p2"}},
		},
		Repeat: 1, // a second round would page p1 again
	})

	first := d.onlyPage("p1", 0, 0)
	d.showAckLink(first)
	second := d.onlyPage("p2", 0, 1)
	if inc := d.incident(); inc.Status != "triggered" {
		t.Fatalf("after GET of the ack link and the second page: status %q, want triggered", inc.Status)
	}
	d.postAckLink(second)
	inc := d.waitEvent("escalation", "escalation stopped")
	if inc.Status != "acknowledged" || inc.AcknowledgedBy != "p2" {
		t.Errorf("after POST of p2's ack link: status %q by %q, want acknowledged by p2", inc.Status, inc.AcknowledgedBy)
	}
	d.quiet(step+quietMargin, map[string]int{"p1": 1, "p2": 1, fallbackName: 0}, 2)
}

// An acknowledgement through the incident API stops the escalation before
// its second step.
func testAckThroughAPI(t *testing.T) {
	t.Parallel()
	const step = 15 * time.Second
	d := startDrill(t, nil, oncallSetup{
		People: []string{"p1", "p2"},
		Steps: []oncallStep{
			{After: step.String(), People: []string{"p1"}},
			{After: "10s", People: []string{"p2"}},
		},
	})

	d.onlyPage("p1", 0, 0)
	if status, body := d.k.act(d.key, "ack", adminToken, "e2e-oncall"); status != http.StatusOK {
		t.Fatalf("ack %s: status %d; body %s", d.key, status, body)
	}
	inc := d.waitEvent("escalation", "escalation stopped")
	if steps := inc.events("escalation", "step 2"); len(steps) > 0 {
		t.Fatalf("step 2 ran before the acknowledgement was stored (the machine is too slow for a %s step): %+v", step, steps)
	}
	if inc.Status != "acknowledged" || inc.AcknowledgedBy != "e2e-oncall" {
		t.Errorf("status %q by %q, want acknowledged by e2e-oncall", inc.Status, inc.AcknowledgedBy)
	}
	d.quiet(step+quietMargin, map[string]int{"p1": 1, "p2": 0, fallbackName: 0}, 1)
}

// A silence added with amtool after the first page holds the escalation:
// nobody else is paged while it lasts; expiring it pages the next step.
func testSilenceHoldsTheEscalation(t *testing.T) {
	t.Parallel()
	const step = 20 * time.Second
	d := startDrill(t, nil, oncallSetup{
		People: []string{"p1", "p2"},
		Steps: []oncallStep{
			{After: step.String(), People: []string{"p1"}},
			{After: step.String(), People: []string{"p2"}},
		},
	})

	d.onlyPage("p1", 0, 0)
	am := newAmtool(t, d.k)
	id := strings.TrimSpace(am.run("silence", "add", "alertname=PagingDrill", "--comment=e2e: known, being fixed", "--duration=1h"))
	inc := d.waitEvent("escalation", "escalation held")
	if steps := inc.events("escalation", "step 2"); len(steps) > 0 {
		t.Fatalf("step 2 ran before the silence was stored (the machine is too slow for a %s step): %+v", step, steps)
	}
	d.quiet(step+quietMargin, map[string]int{"p1": 1, "p2": 0, fallbackName: 0}, 1)

	am.run("silence", "expire", id)
	d.waitEvent("escalation", "the escalation goes on")
	d.onlyPage("p2", 0, 1)
}

// kill -9 after step 1's pages and before step 2: after the restart step 2
// pages once, p1's delivered page is not sent again, and the page whose
// delivery the kill cut off comes again under the same groupKey.
func testKill9BetweenSteps(t *testing.T) {
	t.Parallel()
	d := startDrill(t, map[string]answer{"slow": hangFirst()}, oncallSetup{
		People: []string{"p1", "slow", "p2"},
		Steps: []oncallStep{
			{After: "15s", People: []string{"p1", "slow"}},
			{After: "15s", People: []string{"p2"}},
		},
	})

	d.onlyPage("p1", 0, 0)
	d.r.waitPages("slow", 1) // and its answer hangs until the kill
	inc := d.incident()
	if got := d.r.pages("p2"); len(got) != 0 || len(inc.events("escalation", "step 2")) != 0 {
		t.Fatalf("step 2 ran before the kill (the machine is too slow for a 15s step): p2 got %d pages; timeline %+v", len(got), inc.Timeline)
	}
	if len(inc.events("paged", "paged slow")) != 0 {
		t.Fatalf("slow's page is recorded as delivered, but its receiver never answered: %+v", inc.Timeline)
	}
	d.k.kill9()
	d.k.start()

	d.onlyPage("p2", 0, 1)
	inc = d.waitEvent("paged", "paged slow via")
	if got := d.r.pages("p1"); len(got) != 1 {
		t.Errorf("p1's page was delivered before the kill, and was sent %d times in all, want 1", len(got))
	}
	slow := d.r.pages("slow")
	if len(slow) < 2 {
		t.Errorf("slow got %d pages; its first delivery was cut off by the kill, so want it sent again", len(slow))
	}
	for _, p := range slow {
		if want := intentID(d.key, 0, 0, "slow"); p.GroupKey != want {
			t.Errorf("slow's page re-sent under groupKey %q, want %q: the receiver could not deduplicate it", p.GroupKey, want)
		}
	}
	if steps := inc.events("escalation", "step 2: paging"); len(steps) != 1 {
		t.Errorf("step 2 ran %d times, want once: %+v", len(steps), steps)
	}
}

// One person's receiver hangs, the other's answers: the healthy one's page
// is delivered and journaled while the hung one is still waiting.
func testHungReceiver(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	d := startDrill(t, map[string]answer{"hung": hangUntil(release)}, oncallSetup{
		People: []string{"hung", "healthy"},
		Teams:  map[string][]string{"duo": {"hung", "healthy"}},
		Steps:  []oncallStep{{After: "10m", Teams: []string{"duo"}}},
	})
	t.Cleanup(unblock) // runs before the receivers close, which waits for their handlers

	d.onlyPage("healthy", 0, 0)
	d.r.waitPages("hung", 1)
	inc := d.incident()
	if busy := d.r.busyWith("hung"); busy != 1 {
		t.Fatalf("hung's receiver is answering %d requests, want 1 (still blocked)", busy)
	}
	// hung's handler was still blocked after the timeline was read, so the
	// healthy page was delivered and journaled while hung's was under way.
	if got := inc.events("", "hung via"); len(got) != 0 {
		t.Fatalf("hung's page settled while its receiver was blocked: %+v", got)
	}
	unblock()
	d.waitEvent("paged", "paged hung via")
	if got := d.r.pages("hung"); len(got) != 1 {
		t.Errorf("hung got %d pages, want 1 (it answered 200 once released)", len(got))
	}
}

// A person whose only method answers 400 is not reached: the escalation
// moves on to the next step at once, in the same journal entry as the
// failed delivery, not when the step's 10m delay ends. The next step's
// receiver answers 500 first: the page is retried under the same groupKey.
func testFailedStepMovesOn(t *testing.T) {
	t.Parallel()
	d := startDrill(t, map[string]answer{"bad": answerStatus(http.StatusBadRequest), "flaky": failFirst(1, http.StatusInternalServerError)},
		oncallSetup{
			People: []string{"bad", "flaky"},
			Steps: []oncallStep{
				{After: "10m", People: []string{"bad"}},
				{After: "10m", People: []string{"flaky"}},
			},
		})

	inc := d.waitEvent("paged", "paged flaky via")
	failed := inc.events("page_failed", "paging bad via")
	nobody := inc.events("escalation", "round 1 step 1 reached nobody")
	step2 := inc.events("escalation", "round 1 step 2: paging flaky")
	if len(failed) != 1 || len(nobody) != 1 || len(step2) != 1 {
		t.Fatalf("want one failed page to bad, one 'reached nobody' and one step 2; timeline %+v", inc.Timeline)
	}
	if failed[0].Seq != nobody[0].Seq || nobody[0].Seq != step2[0].Seq {
		t.Errorf("step 2 ran in entry %d, bad's failure was entry %d ('reached nobody' %d): want step 2 moved on by the failure itself",
			step2[0].Seq, failed[0].Seq, nobody[0].Seq)
	}
	if got := d.r.pages("bad"); len(got) != 1 {
		t.Errorf("bad got %d requests, want 1: a 400 is not retried", len(got))
	} else {
		d.checkPage(got[0], "bad", 0, 0)
	}
	flaky := d.r.pages("flaky")
	if len(flaky) < 2 {
		t.Fatalf("flaky got %d requests, want its 500 retried", len(flaky))
	}
	for _, p := range flaky {
		d.checkPage(p, "flaky", 0, 1)
	}
}

// oncallSetup is what testdata/oncall.yml is rendered with: people (one
// webhook each, at the test's receiver), teams and schedules by name, and
// the steps of the policy drill-oncall.
type oncallSetup struct {
	People      []string
	Teams       map[string][]string
	Schedules   map[string][]string // one weekly layer of these participants
	Steps       []oncallStep
	Repeat      int
	FallbackURL string
}

// oncallStep is one escalation step.
type oncallStep struct {
	After                    string
	Schedules, People, Teams []string
}

// oncallTemplate is oncallSetup with each person's webhook URL.
type oncallTemplate struct {
	oncallSetup
	People []oncallPerson
}

// oncallPerson is one person of the on-call file.
type oncallPerson struct{ ID, URL string }

// drill is one subtest's Klaxon with Alertmanager in front, its receivers,
// and the incident the drill's alert opened.
type drill struct {
	t   *testing.T
	k   *klaxon
	r   *receivers
	key string
}

// startDrill starts receivers answering as answers say (200 for anyone
// not named), Klaxon with the on-call file setup describes, and
// Alertmanager; fires one PagingDrill alert into Alertmanager and waits
// for its SEV1 incident.
func startDrill(t *testing.T, answers map[string]answer, setup oncallSetup) *drill {
	t.Helper()
	r := newReceivers(t, answers)
	data := oncallTemplate{oncallSetup: setup}
	for _, id := range setup.People {
		data.People = append(data.People, oncallPerson{ID: id, URL: r.url(id)})
	}
	data.FallbackURL = r.url(fallbackName)
	ackKey, err := filepath.Abs(filepath.Join("testdata", "ack.key"))
	if err != nil {
		t.Fatal(err)
	}
	k := newKlaxonWith(t, klaxonConfig{
		OnCallFiles: []string{"oncall/*.yml"},
		Notify:      map[string]string{"ack_key_file": ackKey, "timeout": notifyTimeout},
	})
	writeTemplate(t, "paging-rules.yml", k.dir, filepath.Join("rules", "paging.yml"), nil)
	writeTemplate(t, "oncall.yml", k.dir, filepath.Join("oncall", "drill.yml"), data)
	k.start()
	am := startAlertmanager(t, k)
	postToAlertmanager(t, am, []alert{{
		Labels:   map[string]string{"alertname": "PagingDrill", "instance": t.Name()},
		StartsAt: time.Now().UTC().Truncate(time.Second),
	}})
	inc := k.oneIncident(drillService, func(inc incidentDetail) error {
		if inc.Severity != "SEV1" {
			return fmt.Errorf("severity %q, want SEV1", inc.Severity)
		}
		return nil
	})
	return &drill{t: t, k: k, r: r, key: inc.Key}
}

// onlyPage waits until person's page of (round, step) is delivered and
// journaled, checks it and that it was sent once, and returns it.
func (d *drill) onlyPage(person string, round, step int) pageRequest {
	d.t.Helper()
	d.r.waitPages(person, 1)
	d.waitEvent("paged", "paged "+person+" via")
	got := d.r.pages(person)
	if len(got) != 1 {
		d.t.Fatalf("%s got %d pages, want exactly one: %+v", person, len(got), got)
	}
	d.checkPage(got[0], person, round, step)
	return got[0]
}

// intentID is the ID Klaxon gives person's page of (round, step), through
// their one notification rule and contact method (triage/escalation.go):
// <incident>/page/<round>/<step>/<person>/<rule>/<method>.
func intentID(key string, round, step int, person string) string {
	return fmt.Sprintf("%s/page/%d/%d/%s/0/%s-hook", key, round, step, person, person)
}

// checkPage checks what a page to person for (round, step) carries.
func (d *drill) checkPage(p pageRequest, person string, round, step int) {
	d.t.Helper()
	if want := intentID(d.key, round, step, person); p.GroupKey != want {
		d.t.Errorf("%s's page: groupKey %q, want the intent ID %q", person, p.GroupKey, want)
	}
	if want := "person/" + person + "/" + person + "-hook"; p.Receiver != want {
		d.t.Errorf("%s's page: receiver %q, want %q", person, p.Receiver, want)
	}
	if len(p.Alerts) != 1 {
		d.t.Fatalf("%s's page carries %d alerts, want 1: %+v", person, len(p.Alerts), p)
	}
	a := p.Alerts[0]
	want := map[string]string{"incident": d.key, "severity": "SEV1", "person": person, "service": drillService, "policy": drillPolicy}
	for name, value := range want {
		if a.Labels[name] != value {
			d.t.Errorf("%s's page: label %s=%q, want %q (labels %v)", person, name, a.Labels[name], value, a.Labels)
		}
	}
	if p.Status != "firing" || a.Status != "firing" {
		d.t.Errorf("%s's page: status %q, alert %q, want firing", person, p.Status, a.Status)
	}
	if ack := a.Annotations["ack_url"]; !strings.HasPrefix(ack, d.k.url+"/ack/") {
		d.t.Errorf("%s's page: ack_url %q, want a link under %s/ack/", person, ack, d.k.url)
	}
}

// showAckLink opens a page's ack link as a browser (or a link scanner)
// would: it shows a button and acknowledges nothing.
func (d *drill) showAckLink(p pageRequest) {
	d.t.Helper()
	status, body := d.ackLink(http.MethodGet, p)
	if status != http.StatusOK || !strings.Contains(body, "<form method=\"post\">") {
		d.t.Fatalf("GET ack link: status %d, want 200 with a form; body %s", status, body)
	}
}

// postAckLink acknowledges through a page's ack link, without credentials.
func (d *drill) postAckLink(p pageRequest) {
	d.t.Helper()
	if status, body := d.ackLink(http.MethodPost, p); status != http.StatusOK {
		d.t.Fatalf("POST ack link: status %d, want 200; body %s", status, body)
	}
}

func (d *drill) ackLink(method string, p pageRequest) (int, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, p.Alerts[0].Annotations["ack_url"], nil)
	if err != nil {
		d.t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s ack link: %v", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("%s ack link: reading the answer: %v", method, err)
	}
	return resp.StatusCode, string(body)
}

// quiet waits for, then checks, how many pages each receiver got in all
// and how many steps paged.
func (d *drill) quiet(wait time.Duration, want map[string]int, steps int) {
	d.t.Helper()
	time.Sleep(wait)
	for name, n := range want {
		if got := d.r.pages(name); len(got) != n {
			d.t.Errorf("%s after the acknowledgement and %s more: %d pages, want %d: %+v", name, wait, len(got), n, got)
		}
	}
	inc := d.incident()
	if got := inc.events("escalation", ": paging "); len(got) != steps {
		d.t.Errorf("%d steps paged, want %d: %+v", len(got), steps, inc.Timeline)
	}
	if got := inc.events("escalation", "fallback"); len(got) != 0 {
		d.t.Errorf("the fallback receiver was paged: %+v", got)
	}
}

// pagedIncident is what the paging tests read of an incident's detail.
type pagedIncident struct {
	Status         string      `json:"status"`
	AcknowledgedBy string      `json:"acknowledgedBy"`
	Timeline       []pageEvent `json:"timeline"`
}

// pageEvent is one timeline event, with the journal entry that caused it.
type pageEvent struct {
	Seq     uint64 `json:"seq"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// events returns the timeline events of kind ("" for any) whose message
// contains text.
func (inc pagedIncident) events(kind, text string) []pageEvent {
	var out []pageEvent
	for _, e := range inc.Timeline {
		if (kind == "" || e.Kind == kind) && strings.Contains(e.Message, text) {
			out = append(out, e)
		}
	}
	return out
}

func (d *drill) readIncident() (pagedIncident, error) {
	var inc pagedIncident
	status, data, err := d.k.do("GET", "/api/v1/incidents/"+url.PathEscape(d.key), adminToken, nil)
	if err != nil {
		return inc, err
	}
	if status != http.StatusOK {
		return inc, fmt.Errorf("GET incident %s: status %d: %s", d.key, status, data)
	}
	if err := json.Unmarshal(data, &inc); err != nil {
		return inc, fmt.Errorf("GET incident %s: %w; body %s", d.key, err, data)
	}
	return inc, nil
}

// incident reads the drill's incident.
func (d *drill) incident() pagedIncident {
	d.t.Helper()
	inc, err := d.readIncident()
	if err != nil {
		d.t.Fatal(err)
	}
	return inc
}

// waitEvent waits until the incident's timeline has an event of kind whose
// message contains text, and returns the incident as then read.
func (d *drill) waitEvent(kind, text string) pagedIncident {
	d.t.Helper()
	var inc pagedIncident
	eventually(d.t, waitTimeout, fmt.Sprintf("%s event %q on %s", kind, text, d.key), func() error {
		var err error
		if inc, err = d.readIncident(); err != nil {
			return err
		}
		if len(inc.events(kind, text)) == 0 {
			return fmt.Errorf("not in the timeline %+v", inc.Timeline)
		}
		return nil
	})
	return inc
}

// pageRequest is one page as a receiver got it: Alertmanager's webhook
// payload, which Klaxon's delivery workers send.
type pageRequest struct {
	Receiver    string `json:"receiver"`
	Status      string `json:"status"`
	GroupKey    string `json:"groupKey"`
	ExternalURL string `json:"externalURL"` // the sender's external_url
	Alerts      []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// answer is a receiver's behaviour: the status of its n-th request (from
// 1); it may block.
type answer func(r *http.Request, n int) int

// answerStatus always answers code.
func answerStatus(code int) answer {
	return func(*http.Request, int) int { return code }
}

// failFirst answers code to the first k requests, then 200.
func failFirst(k, code int) answer {
	return func(_ *http.Request, n int) int {
		if n <= k {
			return code
		}
		return http.StatusOK
	}
}

// hangUntil answers 200 once release is closed or the sender gives up.
func hangUntil(release <-chan struct{}) answer {
	return func(r *http.Request, _ int) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	}
}

// hangFirst never answers the first request (until the sender goes away),
// and answers 200 to the others.
func hangFirst() answer {
	return func(r *http.Request, n int) int {
		if n == 1 {
			<-r.Context().Done()
		}
		return http.StatusOK
	}
}

// receivers is one webhook server standing in for every person's pager and
// the fallback receiver, each at /<name>: it records every page on arrival
// and answers as that name's answer says.
type receivers struct {
	t       *testing.T
	srv     *httptest.Server
	answers map[string]answer

	mu   sync.Mutex
	got  map[string][]pageRequest
	busy map[string]int // requests being answered now
}

// newReceivers starts the server; it closes when the test ends.
func newReceivers(t *testing.T, answers map[string]answer) *receivers {
	t.Helper()
	r := &receivers{t: t, answers: answers, got: map[string][]pageRequest{}, busy: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receivers) url(name string) string { return r.srv.URL + "/" + name }

func (r *receivers) serve(w http.ResponseWriter, req *http.Request) {
	name := strings.TrimPrefix(req.URL.Path, "/")
	var p pageRequest
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		r.t.Errorf("receiver %s: a page that is not a webhook payload: %v", name, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[name] = append(r.got[name], p)
	n := len(r.got[name])
	r.busy[name]++
	r.mu.Unlock()
	status := http.StatusOK
	if a := r.answers[name]; a != nil {
		status = a(req, n)
	}
	r.mu.Lock()
	r.busy[name]--
	r.mu.Unlock()
	w.WriteHeader(status)
}

// pages returns the pages name got, in order of arrival.
func (r *receivers) pages(name string) []pageRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[name])
}

// busyWith reports how many of name's requests are being answered now.
func (r *receivers) busyWith(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.busy[name]
}

// waitPages waits until name got at least n pages.
func (r *receivers) waitPages(name string, n int) {
	r.t.Helper()
	eventually(r.t, waitTimeout, fmt.Sprintf("%d pages to %s", n, name), func() error {
		if got := len(r.pages(name)); got < n {
			return fmt.Errorf("%d so far", got)
		}
		return nil
	})
}
