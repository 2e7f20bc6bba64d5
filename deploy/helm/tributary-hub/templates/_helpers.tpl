{{/* Names and labels. */}}
{{- define "tributary-hub.name" -}}tributary-aggregator{{- end -}}

{{- define "tributary-hub.fullname" -}}
{{- printf "%s-aggregator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary-hub.labels" -}}
{{ include "tributary-hub.selectorLabels" . }}
{{ include "tributary-hub.commonLabels" . }}
{{- end -}}

{{/* What every object of the release carries besides its workload's selector labels. */}}
{{- define "tributary-hub.commonLabels" -}}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tributary
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tributary-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tributary-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tributary-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tributary-hub.natsUrls" -}}
{{- if .Values.aggregator.natsServers -}}
{{- .Values.aggregator.natsServers | toJson -}}
{{- else -}}
{{- list (printf "%s://%s-nats:%v" (ternary "tls" "nats" (eq (include "tributary-hub.natsTls" .) "true")) .Release.Name .Values.nats.config.nats.port) | toJson -}}
{{- end -}}
{{- end -}}

{{/*
Whether this release's NATS client port runs TLS: then the pods that connect to it (the
aggregator, the delivery process, the provisioning Job) trust the CA of its certificate (ca.crt of
the same Secret) through NODE_EXTRA_CA_CERTS, which Node adds to its trusted CAs; the apps' tls://
URL makes them refuse a server without TLS.
*/}}
{{- define "tributary-hub.natsTls" -}}
{{- if and .Values.nats.enabled .Values.nats.config.nats.tls.enabled -}}true{{- end -}}
{{- end -}}

{{- define "tributary-hub.natsCaEnv" -}}
{{- if eq (include "tributary-hub.natsTls" .) "true" }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/tributary/nats-ca/ca.crt
{{- end }}
{{- end -}}

{{- define "tributary-hub.natsCaMount" -}}
{{- if eq (include "tributary-hub.natsTls" .) "true" }}
- name: nats-ca
  mountPath: /etc/tributary/nats-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tributary-hub.natsCaVolume" -}}
{{- if eq (include "tributary-hub.natsTls" .) "true" }}
- name: nats-ca
  secret:
    secretName: {{ .Values.nats.config.nats.tls.secretName | quote }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}

{{/* The NATS chart's pod labels of this release's servers (its StatefulSet's selector). */}}
{{- define "tributary-hub.natsSelectorLabels" -}}
app.kubernetes.io/name: nats
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end -}}

{{/* The aggregator's config file (apps/aggregator/src/config.ts); the warehouse URL comes from the secret. */}}
{{- define "tributary-hub.config" -}}
{{- $a := .Values.aggregator -}}
{{- $config := dict
  "host" "0.0.0.0"
  "port" (int $a.port)
  "logLevel" $a.logLevel
  "nats" (dict "servers" (include "tributary-hub.natsUrls" . | fromJsonArray) "user" "aggregator")
  "manageStreams" false
  "stream" "EVENTS"
  "durable" .Values.global.tributary.durable
  "maxAckPending" (int $a.maxAckPending)
  "ackWaitMs" (int $a.ackWaitMs)
  "batch" (dict "maxEvents" (int $a.batchMaxEvents))
  "api" (dict "anonymousLoopback" false "tokens" (include "tributary-hub.apiTokens" . | fromJsonArray))
  "enrich" (include "tributary-hub.enrich.config" . | fromJson)
  "retention" (dict
    "events" $a.retention.events
    "deliveries" $a.retention.deliveries
    "rollups" $a.retention.rollups
    "everySeconds" (int $a.retention.everySeconds))
-}}
{{- if .Values.operator.existingSecret -}}
{{- $_ := set $config "operatorToken" (dict "env" "TRIBUTARY_OPERATOR_TOKEN") -}}
{{- end -}}
{{- if (include "tributary-hub.controlEnabled" .) -}}
{{- $_ := set $config "control" (dict "enabled" true "user" "control" "allowPrivate" .Values.control.allowPrivate) -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Whether the control plane is on (global.tributary.control.enabled): "true" or empty. */}}
{{- define "tributary-hub.controlEnabled" -}}
{{- if (.Values.global.tributary.control | default dict).enabled -}}true{{- end -}}
{{- end -}}

{{/*
The sealing keys (TRIBUTARY_SEALING_KEYS, packages/control SealingKeys) from their Secret, with
control: the management API seals the secrets it keeps in the bucket, the delivery process opens
its subscriptions' signing secrets.
*/}}
{{- define "tributary-hub.sealingKeysEnv" -}}
{{- if (include "tributary-hub.controlEnabled" .) }}
- name: TRIBUTARY_SEALING_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ required "control.sealingKeys.existingSecret must name the Secret holding the sealing keys when global.tributary.control.enabled is on" .Values.control.sealingKeys.existingSecret | quote }}
      key: {{ .Values.control.sealingKeys.key | quote }}
{{- end }}
{{- end -}}

{{/* Query API tokens as the aggregator's config names them: each token's value in an env var. */}}
{{- define "tributary-hub.apiTokens" -}}
{{- $tokens := list -}}
{{- range .Values.queryApi.tokens -}}
{{- $token := dict "id" .id "env" (include "tributary-hub.apiTokenVar" .id) "sources" .sources -}}
{{- with .scope }}{{ $_ := set $token "scope" . }}{{ end -}}
{{- $tokens = append $tokens $token -}}
{{- end -}}
{{- toJson $tokens -}}
{{- end -}}

{{- define "tributary-hub.apiTokenVar" -}}
{{- printf "TRIBUTARY_API_TOKEN_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{- define "tributary-hub.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/*
EVENTS and EVENTS_DLQ as hubStreamConfig and dlqStreamConfig (packages/streams/src/stream-config.ts)
build them; durations in nanoseconds. test/charts.test.ts compares them.
Each source reads its region's durable consumer `hub-source` (durable sourcing): the region keeps
the position, so a restarted hub resumes where it stopped within seconds. The region's own release
creates that consumer (tributary-gateway's provisioning Job); the duplicate window drops the same
event accepted in two regions (a sender retrying elsewhere), so the loader and every destination
read it once. Each source's transform stores whatever events.{any}.… a region brings as
events.{that region}.…: no region can add events under another's subjects.
*/}}
{{- define "tributary-hub.hubStreamConfig" -}}
{{- $s := .Values.hubStream -}}
{{- $sources := list -}}
{{- range .Values.global.tributary.regions -}}
{{- $sources = append $sources (dict
  "name" (include "tributary.streamName" .)
  "external" (dict "api" (printf "$JS.%s.API" .) "deliver" (printf "deliver.%s" .))
  "consumer" (dict "name" "hub-source" "deliver_subject" (printf "deliver.%s.hub-source" .))
  "subject_transforms" (list (dict "src" "events.*.>" "dest" (printf "events.%s.>" .)))) -}}
{{- end -}}
{{- toPrettyJson (dict
  "name" "EVENTS"
  "subjects" (list "replay.>")
  "retention" "limits"
  "storage" "file"
  "discard" "new"
  "max_bytes" (int64 $s.maxBytes)
  "max_age" (mul (int64 $s.maxAgeSeconds) 1000000000)
  "duplicate_window" (mul (int64 $s.duplicateWindowSeconds) 1000000000)
  "num_replicas" (int $s.replicas)
  "sources" $sources) -}}
{{- end -}}

{{/*
The enriched stream as packages/streams enrichedStreamConfig builds it: what the aggregator's enrich
stage publishes on `enriched.>`, stored without the prefix (events.…, replayed.…, derived.…), with
the hub stream's limits and a 10-minute duplicate window on the event key.
*/}}
{{- define "tributary-hub.enrichedStreamConfig" -}}
{{- $s := .Values.hubStream -}}
{{- toPrettyJson (dict
  "name" "EVENTS_ENRICHED"
  "subjects" (list "enriched.>")
  "subject_transform" (dict "src" "enriched.>" "dest" ">")
  "retention" "limits"
  "storage" "file"
  "discard" "new"
  "max_bytes" (int64 $s.maxBytes)
  "max_age" (mul (int64 $s.maxAgeSeconds) 1000000000)
  "duplicate_window" (mul 600 1000000000)
  "num_replicas" (int $s.replicas)) -}}
{{- end -}}

{{- define "tributary-hub.dlqStreamConfig" -}}
{{- include "tributary-hub.limitsStreamConfig" (dict "name" "EVENTS_DLQ" "subject" "dlq.>" "discard" "old" "limits" .Values.dlqStream "replicas" .Values.dlqStream.replicas) -}}
{{- end -}}

{{/*
The delivery process's streams as packages/streams/src/delivery.ts builds them: a full DLQ or
replay stream refuses writes (`discard: new`, the event waits in EVENTS); the attempt log drops
its oldest records.
*/}}
{{- define "tributary-hub.deliveryDlqStreamConfig" -}}
{{- include "tributary-hub.limitsStreamConfig" (dict "name" "DELIVERY_DLQ" "subject" "delivery-dlq.>" "discard" "new" "limits" .Values.deliveryStreams.dlq "replicas" .Values.deliveryStreams.replicas) -}}
{{- end -}}

{{- define "tributary-hub.deliveryReplayStreamConfig" -}}
{{- include "tributary-hub.limitsStreamConfig" (dict "name" "DELIVERY_REPLAY" "subject" "redeliver.>" "discard" "new" "limits" .Values.deliveryStreams.replay "replicas" .Values.deliveryStreams.replicas) -}}
{{- end -}}

{{- define "tributary-hub.deliveriesStreamConfig" -}}
{{- include "tributary-hub.limitsStreamConfig" (dict "name" "DELIVERIES" "subject" "deliveries.>" "discard" "old" "limits" .Values.deliveryStreams.log "replicas" .Values.deliveryStreams.replicas) -}}
{{- end -}}

{{/*
The control plane's streams at the hub. The bucket's stream as @tributary/control's
ControlStore.hub asks nats-server for it (@nats-io/kv's bucket with hubBucketOptions: 10 revisions
per key, file storage, direct gets, rollups, a full bucket refusing writes); CONTROL_AUDIT as
packages/streams auditStreamConfig builds it (a year, 1 GiB, no direct gets). test/charts.test.ts
compares both.
*/}}
{{- define "tributary-hub.controlBucketStreamConfig" -}}
{{- toPrettyJson (dict
  "name" "KV_tributary_control"
  "retention" "limits"
  "max_msgs_per_subject" 10
  "max_bytes" -1
  "max_msg_size" -1
  "storage" "file"
  "subjects" (list "$KV.tributary_control.>")
  "discard" "new"
  "allow_direct" true
  "num_replicas" (int .Values.control.replicas)
  "allow_rollup_hdrs" true) -}}
{{- end -}}

{{- define "tributary-hub.auditStreamConfig" -}}
{{- toPrettyJson (dict
  "name" "CONTROL_AUDIT"
  "subjects" (list "audit.>")
  "retention" "limits"
  "storage" "file"
  "max_age" (mul 31536000 1000000000)
  "max_bytes" 1073741824
  "discard" "old"
  "num_replicas" (int .Values.control.replicas)
  "allow_direct" false) -}}
{{- end -}}

{{/* A file-stored limits stream of one subject: (dict name subject discard limits{maxBytes,maxAgeSeconds} replicas). */}}
{{- define "tributary-hub.limitsStreamConfig" -}}
{{- toPrettyJson (dict
  "name" .name
  "subjects" (list .subject)
  "retention" "limits"
  "storage" "file"
  "discard" .discard
  "max_bytes" (int64 .limits.maxBytes)
  "max_age" (mul (int64 .limits.maxAgeSeconds) 1000000000)
  "num_replicas" (int .replicas)) -}}
{{- end -}}
