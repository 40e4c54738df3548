package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	amnotify "github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/triage"
)

// lane is one receiver's queue and the integrations its workers send through.
type lane struct {
	integrations []amnotify.Integration
	unknown      bool // the lane of intents naming no configured receiver
	jobs         chan triage.Intent
}

func (l *lane) workers(n int) int {
	if l.unknown {
		return 1
	}
	return n
}

// buildLanes builds every receiver's integrations with Alertmanager's
// templates.
func buildLanes(opts Options) (map[string]*lane, error) {
	tmpl, err := template.FromGlobs(opts.Templates)
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	if opts.ExternalURL != nil {
		tmpl.ExternalURL = opts.ExternalURL
	} else {
		tmpl.ExternalURL = &url.URL{}
	}
	lanes := make(map[string]*lane, len(opts.Receivers))
	for _, name := range slices.Sorted(maps.Keys(opts.Receivers)) {
		rc := opts.Receivers[name]
		if rc == nil {
			return nil, fmt.Errorf("notify: receiver %q: no configuration", name)
		}
		rcv := withHTTPDefaults(*rc)
		rcv.Name = name
		ints, err := receiver.BuildReceiverIntegrations(rcv, tmpl, opts.IntegrationLogger)
		if err != nil {
			return nil, fmt.Errorf("notify: receiver %q: %w", name, err)
		}
		lanes[name] = &lane{integrations: ints, jobs: make(chan triage.Intent, opts.QueueSize)}
	}
	return lanes, nil
}

// withHTTPDefaults gives every integration without an http_config the
// default one, as Alertmanager's global section would; the caller's
// configurations are copied, never changed.
func withHTTPDefaults(rc config.Receiver) config.Receiver {
	v := reflect.ValueOf(&rc).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Pointer || f.Type().Elem().Elem().Kind() != reflect.Struct {
			continue
		}
		copied := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
		for j := range f.Len() {
			orig := f.Index(j)
			if orig.IsNil() {
				continue
			}
			c := reflect.New(orig.Type().Elem())
			c.Elem().Set(orig.Elem())
			if h := c.Elem().FieldByName("HTTPConfig"); h.IsValid() && h.IsNil() && h.Type() == reflect.TypeFor[*commoncfg.HTTPClientConfig]() {
				def := commoncfg.DefaultHTTPClientConfig
				h.Set(reflect.ValueOf(&def))
			}
			copied.Index(j).Set(c)
		}
		f.Set(copied)
	}
	return rc
}

// deliver makes one attempt at an intent through every integration of its
// receiver at once. The page is delivered if any integration took it: the
// person was reached, and another attempt would page them again through
// the ones that worked. Otherwise it is worth retrying if any failure is.
func (d *Dispatcher) deliver(ctx context.Context, l *lane, in triage.Intent) triage.Delivery {
	del := triage.Delivery{Intent: in.ID, Attempt: in.Attempts + 1}
	switch {
	case l.unknown:
		del.Error = errNoReceiver(in.Receiver)
		return d.logged(in, del)
	case len(l.integrations) == 0:
		del.Error = fmt.Sprintf("receiver %q has no integrations", in.Receiver)
		return d.logged(in, del)
	}
	now := d.opts.Clock()
	a, err := d.alert(in, now)
	if err != nil {
		del.Error = err.Error()
		return d.logged(in, del)
	}
	ctx = pageContext(ctx, in, now)
	results := make([]result, len(l.integrations))
	var wg sync.WaitGroup
	for i := range l.integrations {
		wg.Go(func() { results[i] = d.notifyOne(ctx, &l.integrations[i], a) })
	}
	wg.Wait()
	var errs []string
	for _, r := range results {
		if r.err == nil {
			del.OK = true
			continue
		}
		del.Retry = del.Retry || r.retry
		errs = append(errs, r.err.Error())
	}
	if !del.OK {
		del.Error = strings.Join(errs, "; ")
	} else {
		del.Retry = false
	}
	return d.logged(in, del)
}

func (d *Dispatcher) logged(in triage.Intent, del triage.Delivery) triage.Delivery {
	if !del.OK {
		d.log.Warn("page failed", zap.String("intent", in.ID), zap.String("receiver", in.Receiver),
			zap.Int("attempt", del.Attempt), zap.Bool("retry", del.Retry), zap.String("error", del.Error))
	}
	return del
}

// result is one integration's outcome.
type result struct {
	err   error
	retry bool
}

// notifyOne sends the page through one integration within the timeout.
func (d *Dispatcher) notifyOne(ctx context.Context, integ *amnotify.Integration, a *alert.Alert) result {
	tctx, cancel := context.WithTimeoutCause(ctx, d.opts.Timeout, fmt.Errorf("no answer within %s", d.opts.Timeout))
	defer cancel()
	start := time.Now()
	v := integ.Notify(tctx, a)
	d.metrics.latency.WithLabelValues(integ.Name()).Observe(time.Since(start).Seconds())
	d.metrics.total.WithLabelValues(integ.Name()).Inc()
	if v.Err() == nil {
		return result{}
	}
	retry, reason := v.ShouldRetry(), v.Reason()
	if ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		retry, reason = true, amnotify.ContextDeadlineExceededReason
	}
	d.metrics.failed.WithLabelValues(integ.Name(), reason.String()).Inc()
	return result{err: fmt.Errorf("%s: %w", integ.String(), v.Err()), retry: retry}
}

// pageContext carries what Alertmanager's dispatcher gives its notifiers.
// The intent ID is the group key, so receivers deduplicate on it
// (PagerDuty's dedup_key is its hash; a webhook's groupKey is the ID).
func pageContext(ctx context.Context, in triage.Intent, now time.Time) context.Context {
	ctx = amnotify.WithGroupKey(ctx, in.ID)
	ctx = amnotify.WithGroupLabels(ctx, groupLabels(in))
	ctx = amnotify.WithReceiverName(ctx, in.Receiver)
	ctx = amnotify.WithNow(ctx, now)
	ctx = amnotify.WithRepeatInterval(ctx, 0) // Klaxon repeats by escalation rounds, each its own intent
	return amnotify.WithNotificationReason(ctx, amnotify.ReasonFirstNotification)
}

// groupLabels are the labels a page's group is known by in templates
// ({{ .GroupLabels.intent }}, e.g. in a templated webhook URL).
func groupLabels(in triage.Intent) model.LabelSet {
	return model.LabelSet{"incident": model.LabelValue(in.Incident), "intent": model.LabelValue(in.ID)}
}

// alert is the synthetic Alertmanager alert that carries a page, or
// another intent's message; an error if its words cannot be rendered.
func (d *Dispatcher) alert(in triage.Intent, now time.Time) (*alert.Alert, error) {
	m := in.Message
	labels := make(model.LabelSet, len(m.Labels)+5)
	for k, v := range m.Labels {
		if model.LabelName(k).IsValid() {
			labels[model.LabelName(k)] = model.LabelValue(v)
		}
	}
	set := func(name model.LabelName, v string) {
		if v != "" {
			labels[name] = model.LabelValue(v)
		}
	}
	set(model.AlertNameLabel, cmpOr(m.Title, m.Key))
	set("incident", cmpOr(m.Key, in.Incident))
	set("severity", m.Severity)
	set("service", m.Service)
	set("person", in.Person)
	ann := model.LabelSet{
		"summary":     model.LabelValue(m.Title),
		"description": model.LabelValue(m.Explanation),
	}
	incidentURL := d.incidentURL(in.Incident)
	if incidentURL != "" {
		ann["incident_url"] = model.LabelValue(incidentURL)
	}
	if in.Kind == triage.IntentFinal {
		if err := d.finalText(in, labels, ann); err != nil {
			return nil, err
		}
	} else if ack := d.AckURL(in.Incident, in.Person, now); ack != "" {
		ann["ack_url"] = model.LabelValue(ack)
	}
	return alert.New(model.Alert{
		Labels:       labels,
		Annotations:  ann,
		StartsAt:     cmpOrTime(m.OpenedAt, now),
		GeneratorURL: incidentURL,
	}, now, false), nil
}

// finalText puts a final message's words in its alert: the summary and
// description, and the label message="final" for routing in templates.
func (d *Dispatcher) finalText(in triage.Intent, labels, ann model.LabelSet) error {
	labels["message"] = "final"
	if d.opts.FinalText == nil {
		return nil
	}
	title, body, err := d.opts.FinalText(in)
	if err != nil {
		return fmt.Errorf("word the final message: %w", err)
	}
	ann["summary"], ann["description"] = model.LabelValue(title), model.LabelValue(body)
	return nil
}

func (d *Dispatcher) incidentURL(key string) string {
	if d.opts.ExternalURL == nil {
		return ""
	}
	return d.opts.ExternalURL.JoinPath("api", "v1", "incidents", key).String()
}

// AckURL is the link that acknowledges incident as person when opened
// before now+AckTTL: ExternalURL + "/ack/" + token, or "" without an
// external URL or a signer. A fallback receiver's page has no person: its
// token names "", and the ack route decides whom to record.
func (d *Dispatcher) AckURL(incident, person string, now time.Time) string {
	if d.opts.ExternalURL == nil || d.opts.AckSigner == nil {
		return ""
	}
	return d.opts.ExternalURL.JoinPath("ack", d.opts.AckSigner.Sign(incident, person, now.Add(d.opts.AckTTL))).String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cmpOrTime(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return a
}
