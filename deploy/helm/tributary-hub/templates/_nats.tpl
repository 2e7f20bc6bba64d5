{{/*
The hub's NATS topology, rendered inside the official NATS chart through its `$tplYaml` values
(these templates see the NATS chart's context: .Values is the `nats:` block plus `global`).
What they write mirrors packages/streams (server-config.ts, permissions.ts, names.ts):
deploy/helm/test/charts.test.ts compares the rendered config with that code, and
topology.int.test.ts runs it as a region and the hub.
*/}}

{{- define "tributary.natsJetStream" -}}
domain: "hub"
{{- with .Values.global.tributary.syncInterval }}
sync_interval: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "tributary.leafPasswordVar" -}}
{{- printf "LEAF_%s_PASSWORD" (. | upper | replace "-" "_") -}}
{{- end -}}

{{- define "tributary.natsHubConfig" -}}
{{- $delivery := .Values.global.tributary.delivery -}}
{{- $control := .Values.global.tributary.control | default dict -}}
# The largest message any server of the topology takes (packages/streams MAX_PAYLOAD_BYTES): the
# largest body with its headers, and its DLQ entry.
max_payload: {{ include "tributary.maxPayload" . }}
accounts:
  TRIBUTARY:
    jetstream: enabled
    users:
      - user: admin
        password: "<< $ADMIN_PASSWORD >>"
        allowed_connection_types: [STANDARD]
      - user: aggregator
        password: "<< $AGGREGATOR_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        permissions:
          publish:
            allow:
              - "$JS.API.INFO"
              - "$JS.API.STREAM.INFO.EVENTS"
              - "$JS.API.STREAM.INFO.EVENTS_ENRICHED"
              - "$JS.API.STREAM.INFO.EVENTS_DLQ"
              # its enrich stage's durable on EVENTS, its loader's on EVENTS_ENRICHED (events and replays)
              {{- include "tributary.durableConsumerPermissions" (list "EVENTS" "enricher" (list)) | nindent 14 }}
              {{- include "tributary.durableConsumerPermissions" (list "EVENTS_ENRICHED" .Values.global.tributary.durable (list "events.>" "replayed.>")) | nindent 14 }}
              # both go back to their ack floor at each start: what a killed predecessor had in flight comes now
              - "$JS.API.CONSUMER.RESET.EVENTS.enricher"
              - {{ printf "$JS.API.CONSUMER.RESET.EVENTS_ENRICHED.%s" .Values.global.tributary.durable | quote }}
              # both ack cumulatively: one made when they acked each message is replaced
              - "$JS.API.CONSUMER.DELETE.EVENTS.enricher"
              - {{ printf "$JS.API.CONSUMER.DELETE.EVENTS_ENRICHED.%s" .Values.global.tributary.durable | quote }}
              - "enriched.>"
              - "dlq.>"
              # its durable on DELIVERIES: the delivery log (apps/delivery) loaded into the warehouse
              - "$JS.API.STREAM.INFO.DELIVERIES"
              {{- include "tributary.durableConsumerPermissions" (list "DELIVERIES" "deliveries-loader" (list)) | nindent 14 }}
          subscribe:
            # Its own replies only (packages/streams inboxPermission; connectNats sets the prefix).
            allow: ["_INBOX_aggregator.>"]
      {{- if and $delivery.enabled $control.enabled }}
      # The delivery process when subscriptions are managed at runtime (packages/streams
      # managedDeliveryPermissions): consumers come and go with subscriptions, so it may create,
      # read, pull from and delete any consumer on EVENTS_ENRICHED and DELIVERY_REPLAY except the
      # aggregator's durable (denied by name), write any destination's DLQ, replay and log subjects,
      # watch the control bucket, write a subscription's record and audit entry (an automatic
      # pause) and its breaker state (health.<subscription>). What a subscription reads is bounded by the process, not by nats-server.
      {{- $aggregator := printf "EVENTS_ENRICHED.%s" .Values.global.tributary.durable }}
      - user: delivery
        password: "<< $DELIVERY_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        permissions:
          publish:
            allow:
              - "$JS.API.INFO"
              - "$JS.API.STREAM.INFO.EVENTS_ENRICHED"
              - "$JS.API.STREAM.INFO.DELIVERY_DLQ"
              - "$JS.API.STREAM.INFO.DELIVERY_REPLAY"
              - "$JS.API.STREAM.INFO.DELIVERIES"
              - "$JS.API.STREAM.MSG.GET.DELIVERY_DLQ"
              - "$JS.API.STREAM.MSG.DELETE.DELIVERY_DLQ"
              {{- range list "EVENTS_ENRICHED" "DELIVERY_REPLAY" }}
              - {{ printf "$JS.API.CONSUMER.CREATE.%s.>" . | quote }}
              - {{ printf "$JS.API.CONSUMER.INFO.%s.*" . | quote }}
              - {{ printf "$JS.API.CONSUMER.DELETE.%s.*" . | quote }}
              - {{ printf "$JS.API.CONSUMER.MSG.NEXT.%s.*" . | quote }}
              - {{ printf "$JS.API.CONSUMER.DURABLE.CREATE.%s.*" . | quote }}
              - {{ printf "$JS.ACK.%s.>" . | quote }}
              {{- end }}
              - "$JS.API.CONSUMER.LIST.EVENTS_ENRICHED"
              - "delivery-dlq.*"
              - "redeliver.*"
              - "deliveries.*"
              {{- include "tributary.controlReadPermissions" . | nindent 14 }}
              - "$KV.tributary_control.subscriptions.*"
              - "$KV.tributary_control.health.*"
              - "audit.subscriptions.*"
            deny:
              - {{ printf "$JS.API.CONSUMER.CREATE.%s" $aggregator | quote }}
              - {{ printf "$JS.API.CONSUMER.CREATE.%s.>" $aggregator | quote }}
              - {{ printf "$JS.API.CONSUMER.INFO.%s" $aggregator | quote }}
              - {{ printf "$JS.API.CONSUMER.DELETE.%s" $aggregator | quote }}
              - {{ printf "$JS.API.CONSUMER.MSG.NEXT.%s" $aggregator | quote }}
              - {{ printf "$JS.API.CONSUMER.DURABLE.CREATE.%s" $aggregator | quote }}
              - {{ printf "$JS.ACK.%s.>" $aggregator | quote }}
          subscribe:
            allow: ["_INBOX_delivery.>"]
      {{- else if $delivery.enabled }}
      # The delivery process (packages/streams deliveryPermissions): per destination its durable
      # consumers on EVENTS_ENRICHED (pinned to the destination's filter subjects where nats-server can pin
      # them) and DELIVERY_REPLAY, the scan consumer of its time-range replays, and its own DLQ,
      # replay and log subjects; reads and deletes DLQ entries for replays. It reads no hub event by
      # sequence and manages no stream.
      - user: delivery
        password: "<< $DELIVERY_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        permissions:
          publish:
            allow:
              - "$JS.API.INFO"
              - "$JS.API.STREAM.INFO.EVENTS_ENRICHED"
              - "$JS.API.STREAM.INFO.DELIVERY_DLQ"
              - "$JS.API.STREAM.INFO.DELIVERY_REPLAY"
              - "$JS.API.STREAM.INFO.DELIVERIES"
              - "$JS.API.STREAM.MSG.GET.DELIVERY_DLQ"
              - "$JS.API.STREAM.MSG.DELETE.DELIVERY_DLQ"
              {{- range $delivery.destinations }}
              {{- $durable := printf "delivery-%s" .name }}
              {{- $filters := include "tributary.deliveryFilterSubjects" . | fromJsonArray }}
              {{- include "tributary.durableConsumerPermissions" (list "EVENTS_ENRICHED" $durable $filters) | nindent 14 }}
              {{- include "tributary.durableConsumerPermissions" (list "DELIVERY_REPLAY" (printf "%s-replay" $durable) (list (printf "redeliver.%s" .name))) | nindent 14 }}
              {{- include "tributary.durableConsumerPermissions" (list "EVENTS_ENRICHED" (printf "%s-scan" $durable) $filters) | nindent 14 }}
              - {{ printf "$JS.API.CONSUMER.DELETE.EVENTS_ENRICHED.%s-scan" $durable | quote }}
              - {{ printf "delivery-dlq.%s" .name | quote }}
              - {{ printf "redeliver.%s" .name | quote }}
              - {{ printf "deliveries.%s" .name | quote }}
              {{- end }}
          subscribe:
            allow: ["_INBOX_delivery.>"]
      {{- end }}
      {{- if $control.enabled }}
      # The management API on the aggregator (packages/streams controlPermissions): the control
      # bucket read and written, the audit stream written and read by sequence, hub events and the
      # delivery log read by sequence (resends), events put back for one subscription, a
      # subscription's consumer info on EVENTS_ENRICHED (its backlog); both DLQs read,
      # replayed (a subscription's to redeliver.*, the loader's to replay.* of the hub stream) and
      # dropped; and erasure's reads and deletes (tributary.erasurePermissions, which also grants the
      # DLQs' info and deletes). No stream management (the provisioning Job
      # makes the bucket and CONTROL_AUDIT).
      - user: control
        password: "<< $CONTROL_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        permissions:
          publish:
            allow:
              - "$JS.API.INFO"
              {{- include "tributary.controlReadPermissions" . | nindent 14 }}
              - "$KV.tributary_control.>"
              - "$JS.API.STREAM.INFO.CONTROL_AUDIT"
              - "audit.>"
              - "$JS.API.STREAM.MSG.GET.CONTROL_AUDIT"
              - "$JS.API.STREAM.INFO.EVENTS_ENRICHED"
              - "$JS.API.STREAM.MSG.GET.EVENTS_ENRICHED"
              - "$JS.API.CONSUMER.INFO.EVENTS_ENRICHED.*"
              - "$JS.API.STREAM.INFO.DELIVERIES"
              - "$JS.API.STREAM.MSG.GET.DELIVERIES"
              - "$JS.API.STREAM.INFO.DELIVERY_REPLAY"
              - "$JS.API.STREAM.MSG.GET.DELIVERY_REPLAY"
              - "redeliver.*"
              - "$JS.API.STREAM.MSG.GET.DELIVERY_DLQ"
              - "$JS.API.STREAM.MSG.GET.EVENTS_DLQ"
              - "replay.*"
              {{- include "tributary.erasurePermissions" . | nindent 14 }}
          subscribe:
            allow: ["_INBOX_control.>"]
      {{- end }}
    # The control bucket's mirror traffic, each region's to its own link account only (packages/streams
    # controlMirrorExports): the mirror's consumer create, its flow-control replies, and the region's
    # deliver prefix. Rendered with control off too, as the code renders it: nothing uses them then.
    exports:
      {{- range .Values.global.tributary.regions }}
      {{- $account := include "tributary.linkAccountName" . }}
      {{- $mirror := include "tributary.controlMirrorExports" . | fromYaml }}
      {{- range $mirror.services }}
      - service: {{ . | quote }}
        accounts: [{{ $account }}]
      {{- end }}
      {{- range $mirror.streams }}
      - stream: {{ . | quote }}
        accounts: [{{ $account }}]
      {{- end }}
      {{- end }}
    # Each region's sourcing subjects, from the account its leafnode link logs in to.
    imports:
      {{- range .Values.global.tributary.regions }}
      {{- $account := include "tributary.linkAccountName" . }}
      {{- $exports := include "tributary.linkExports" . | fromYaml }}
      {{- range $exports.services }}
      - service: { account: {{ $account }}, subject: {{ . | quote }} }
      {{- end }}
      {{- range $exports.streams }}
      - stream: { account: {{ $account }}, subject: {{ . | quote }} }
      {{- end }}
      {{- end }}
  {{- /*
  Each region's leafnode link logs in to an account of its own, LINK_<REGION>, holding only its
  leaf user and sharing with TRIBUTARY only what it exports: a region can answer only its own
  stream's sourcing requests and send only its own deliveries. nats-server swaps publish and
  subscribe for leaf connections: the hub sends the region those requests, the region sends back
  its deliveries and the replies, which nats-server routes through one-off `_R_` subjects of the
  link account (packages/streams leafPermissions).
  */}}
  {{- range .Values.global.tributary.regions }}
  {{- $exports := include "tributary.linkExports" . | fromYaml }}
  {{- $mirror := include "tributary.controlMirrorExports" . | fromYaml }}
  {{- $mirrorLeaf := include "tributary.controlMirrorLeafPermissions" . | fromYaml }}
  {{ include "tributary.linkAccountName" . }}:
    users:
      - user: {{ printf "leaf-%s" . | quote }}
        password: {{ printf "<< $%s >>" (include "tributary.leafPasswordVar" .) | quote }}
        allowed_connection_types: [LEAFNODE]
        # And the region's mirror of the control bucket (packages/streams controlMirrorLeafPermissions).
        permissions:
          publish:
            allow: {{ concat (list "_R_.>") $exports.streams $mirrorLeaf.publish | toJson }}
          subscribe:
            allow: {{ concat $exports.services $mirrorLeaf.subscribe | toJson }}
    exports:
      {{- range $exports.services }}
      - service: {{ . | quote }}
        accounts: [TRIBUTARY]
      {{- end }}
      {{- range $exports.streams }}
      - stream: {{ . | quote }}
        accounts: [TRIBUTARY]
      {{- end }}
    # The control bucket's mirror traffic that TRIBUTARY exports to this region alone.
    imports:
      {{- range $mirror.services }}
      - service: { account: TRIBUTARY, subject: {{ . | quote }} }
      {{- end }}
      {{- range $mirror.streams }}
      - stream: { account: TRIBUTARY, subject: {{ . | quote }} }
      {{- end }}
  {{- end }}
{{- end -}}

{{/*
What pulling from one durable consumer takes, as packages/streams durableConsumerPermissions
lists it: (list stream durable filterSubjects). The create is the exact subject the client sends:
without a filter it ends at the durable; one filter subject is pinned in it (nats-server checks
it against the config); several filters go through DURABLE.CREATE, which cannot carry them.
*/}}
{{- define "tributary.durableConsumerPermissions" -}}
{{- $consumer := printf "%s.%s" (index . 0) (index . 1) -}}
{{- $filters := without (index . 2) ">" -}}
- {{ printf "$JS.API.CONSUMER.INFO.%s" $consumer | quote }}
{{- if gt (len $filters) 1 }}
- {{ printf "$JS.API.CONSUMER.DURABLE.CREATE.%s" $consumer | quote }}
{{- else if eq (len $filters) 1 }}
- {{ printf "$JS.API.CONSUMER.CREATE.%s.%s" $consumer (first $filters) | quote }}
{{- else }}
- {{ printf "$JS.API.CONSUMER.CREATE.%s" $consumer | quote }}
{{- end }}
- {{ printf "$JS.API.CONSUMER.MSG.NEXT.%s" $consumer | quote }}
- {{ printf "$JS.ACK.%s.>" $consumer | quote }}
{{- end -}}

{{/*
A destination's filter subjects, as packages/streams deliveryFilterSubjects builds them: its
sources × types (`events.*.{source}.{type}`), `*` for every source and `>` for every type. JSON.
*/}}
{{- define "tributary.deliveryFilterSubjects" -}}
{{- $sources := uniq (.sources | default list) -}}
{{- $types := uniq (.types | default list) -}}
{{- if not $sources }}{{ $sources = list "*" }}{{ end -}}
{{- if not $types }}{{ $types = list ">" }}{{ end -}}
{{- $subjects := list -}}
{{- range $source := $sources -}}
{{- range $type := $types -}}
{{- /* a derived event (packages/streams DERIVED_EVENT_TYPES) comes from derived.… */ -}}
{{- $prefix := ternary "derived" "events" (has $type (list "click.flagged")) -}}
{{- $subjects = append $subjects (printf "%s.*.%s.%s" $prefix $source $type) -}}
{{- end -}}
{{- end -}}
{{- toJson $subjects -}}
{{- end -}}

{{/* packages/streams MAX_PAYLOAD_BYTES (2 MiB); test/charts.test.ts compares them. */}}
{{- define "tributary.maxPayload" -}}2097152{{- end -}}

{{/*
The cluster's routes, authenticated: user `route` with ROUTE_PASSWORD from
global.tributary.natsSecret, in the listener and in each route URL. nats-server reads a password
only whole from a variable, never inside a URL, so each node's URL is an env var of its own that
Kubernetes composes from the Secret (tributary.natsRouteEnv); the password must be URL-safe
(e.g. `openssl rand -hex 32`).
*/}}
{{- define "tributary.natsRouteAuth" -}}
{{- if .Values.routeAuth.enabled }}
authorization:
  user: route
  password: "<< $ROUTE_PASSWORD >>"
routes:
  {{- range $i, $_ := until (int .Values.config.cluster.replicas) }}
  - {{ printf "<< $ROUTE_URL_%d >>" $i | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The route TLS: mutual, each node's certificate checked against the CA in its own Secret. */}}
{{- define "tributary.natsRouteTls" -}}
ca_file: {{ printf "%s/ca.crt" (trimSuffix "/" .Values.config.cluster.tls.dir) | quote }}
verify: true
{{- end -}}

{{/* The route URLs' env vars (see tributary.natsRouteAuth). */}}
{{- define "tributary.natsRouteEnv" -}}
{{- if and .Values.config.cluster.enabled .Values.routeAuth.enabled }}
ROUTE_PASSWORD:
  valueFrom:
    secretKeyRef:
      name: {{ .Values.global.tributary.natsSecret | quote }}
      key: ROUTE_PASSWORD
{{- $proto := ternary "tls" "nats" .Values.config.cluster.tls.enabled }}
{{- range $i, $_ := until (int .Values.config.cluster.replicas) }}
{{ printf "ROUTE_URL_%d" $i }}: {{ printf "%s://route:$(ROUTE_PASSWORD)@%s-%d.%s:%v" $proto $.Values.statefulSet.name $i $.Values.headlessService.name $.Values.config.cluster.port | quote }}
{{- end }}
{{- else }}
{}
{{- end }}
{{- end -}}

{{- define "tributary.streamName" -}}
{{- printf "EVENTS_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* The hub account a region's leafnode link logs in to: LINK_US (packages/streams linkAccountName). */}}
{{- define "tributary.linkAccountName" -}}
{{- printf "LINK_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/*
What a region's link account exports to TRIBUTARY (packages/streams linkExports), as YAML:
services, what the hub asks of the region: the reset of its durable source consumer `hub-source`
and the flow-control replies to it; streams, what the region sends: its deliveries.
*/}}
{{- define "tributary.linkExports" -}}
{{- $stream := include "tributary.streamName" . -}}
services:
  - {{ printf "$JS.%s.API.CONSUMER.RESET.%s.hub-source" . $stream | quote }}
  - {{ printf "$JS.FC.%s.>" $stream | quote }}
streams:
  - {{ printf "deliver.%s.>" . | quote }}
{{- end -}}

{{/*
The control bucket (packages/streams control.ts): KV bucket `tributary_control`, its stream
KV_tributary_control at the hub; each region keeps a mirror of it, read through the hub domain's
API and delivered to the region's own prefix `deliver.control.<region>`.
*/}}

{{/*
What the hub's TRIBUTARY account exports to one region's link account for its mirror
(controlMirrorExports), as YAML: the mirror's consumer create and flow-control replies (services),
the region's deliver prefix (streams).
*/}}
{{- define "tributary.controlMirrorExports" -}}
services:
  - "$JS.API.CONSUMER.CREATE.KV_tributary_control"
  - "$JS.FC.KV_tributary_control.>"
streams:
  - {{ printf "deliver.control.%s.>" . | quote }}
{{- end -}}

{{/*
The leaf user's share of the mirror (controlMirrorLeafPermissions), in nats-server's leaf terms:
publish what the region sends the hub (the create as the region sends it, flow-control replies),
subscribe what the hub sends back (the deliveries, the create's reply).
*/}}
{{- define "tributary.controlMirrorLeafPermissions" -}}
publish:
  - "$JS.hub.API.CONSUMER.CREATE.KV_tributary_control"
  - "$JS.FC.KV_tributary_control.>"
subscribe:
  - {{ printf "deliver.control.%s.>" . | quote }}
  - "$JSC.R.>"
{{- end -}}

{{/*
Reading the bucket (controlReadPermissions): its stream info, direct gets, and watching it through
an ordered consumer of its own. A YAML list.
*/}}
{{- define "tributary.controlReadPermissions" -}}
- "$JS.API.STREAM.INFO.KV_tributary_control"
- "$JS.API.STREAM.NAMES"
- "$JS.API.DIRECT.GET.KV_tributary_control.>"
- "$JS.API.DIRECT.GET.KV_tributary_control"
- "$JS.API.STREAM.MSG.GET.KV_tributary_control"
- "$JS.API.CONSUMER.CREATE.KV_tributary_control.>"
- "$JS.API.CONSUMER.DELETE.KV_tributary_control.>"
- "$JS.API.CONSUMER.INFO.KV_tributary_control.>"
- "$JS.API.CONSUMER.MSG.NEXT.KV_tributary_control.>"
- "$JS.FC.KV_tributary_control.>"
{{- end -}}

{{/*
Erasure at the hub (packages/streams erasurePermissions): per erasable stream its info, its one
consumer (tributary-erasure, exact subjects), and deleting messages and purging by subject.
*/}}
{{- define "tributary.erasurePermissions" -}}
- "$JS.API.STREAM.INFO.EVENTS"
- "$JS.API.STREAM.MSG.DELETE.EVENTS"
- "$JS.API.STREAM.MSG.GET.EVENTS"
- "$JS.API.STREAM.PURGE.EVENTS"
- "$JS.API.CONSUMER.CREATE.EVENTS.tributary-erasure"
- "$JS.API.CONSUMER.MSG.NEXT.EVENTS.tributary-erasure"
- "$JS.API.CONSUMER.INFO.EVENTS.tributary-erasure"
- "$JS.API.CONSUMER.DELETE.EVENTS.tributary-erasure"
- "$JS.API.STREAM.INFO.EVENTS_ENRICHED"
- "$JS.API.STREAM.MSG.DELETE.EVENTS_ENRICHED"
- "$JS.API.STREAM.MSG.GET.EVENTS_ENRICHED"
- "$JS.API.STREAM.PURGE.EVENTS_ENRICHED"
- "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.tributary-erasure"
- "$JS.API.CONSUMER.MSG.NEXT.EVENTS_ENRICHED.tributary-erasure"
- "$JS.API.CONSUMER.INFO.EVENTS_ENRICHED.tributary-erasure"
- "$JS.API.CONSUMER.DELETE.EVENTS_ENRICHED.tributary-erasure"
- "$JS.API.STREAM.INFO.EVENTS_DLQ"
- "$JS.API.STREAM.MSG.DELETE.EVENTS_DLQ"
- "$JS.API.STREAM.MSG.GET.EVENTS_DLQ"
- "$JS.API.STREAM.PURGE.EVENTS_DLQ"
- "$JS.API.CONSUMER.CREATE.EVENTS_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.MSG.NEXT.EVENTS_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.INFO.EVENTS_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.DELETE.EVENTS_DLQ.tributary-erasure"
- "$JS.API.STREAM.INFO.DELIVERY_DLQ"
- "$JS.API.STREAM.MSG.DELETE.DELIVERY_DLQ"
- "$JS.API.STREAM.MSG.GET.DELIVERY_DLQ"
- "$JS.API.STREAM.PURGE.DELIVERY_DLQ"
- "$JS.API.CONSUMER.CREATE.DELIVERY_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.MSG.NEXT.DELIVERY_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.INFO.DELIVERY_DLQ.tributary-erasure"
- "$JS.API.CONSUMER.DELETE.DELIVERY_DLQ.tributary-erasure"
{{- end -}}

{{- define "tributary.natsHardenedContainer" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{- define "tributary.natsContainer" -}}
{{ include "tributary.natsHardenedContainer" . }}
envFrom:
  - secretRef:
      name: {{ .Values.global.tributary.natsSecret | quote }}
{{- end -}}

{{- define "tributary.natsPodSecurity" -}}
spec:
  # nats-server never talks to the Kubernetes API: no ServiceAccount token in its pods.
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 1000
    fsGroup: 1000
    seccompProfile:
      type: RuntimeDefault
{{- end -}}

{{- define "tributary.natsReloader" -}}
{{ include "tributary.natsHardenedContainer" . }}
resources:
  requests:
    cpu: 10m
    memory: 16Mi
  limits:
    memory: 64Mi
{{- end -}}

