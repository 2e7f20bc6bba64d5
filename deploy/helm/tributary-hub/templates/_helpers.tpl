{{/* Names and labels. */}}
{{- define "tributary-hub.name" -}}tributary-aggregator{{- end -}}

{{- define "tributary-hub.fullname" -}}
{{- printf "%s-aggregator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary-hub.labels" -}}
app.kubernetes.io/name: {{ include "tributary-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
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
{{- list (printf "nats://%s-nats:%v" .Release.Name .Values.nats.config.nats.port) | toJson -}}
{{- end -}}
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
-}}
{{- if .Values.operator.existingSecret -}}
{{- $_ := set $config "operatorToken" (dict "env" "TRIBUTARY_OPERATOR_TOKEN") -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Query API tokens as the aggregator's config names them: each token's value in an env var. */}}
{{- define "tributary-hub.apiTokens" -}}
{{- $tokens := list -}}
{{- range .Values.queryApi.tokens -}}
{{- $tokens = append $tokens (dict "id" .id "env" (include "tributary-hub.apiTokenVar" .id) "sources" .sources) -}}
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
build them; durations in nanoseconds. test/chart-streams.test.ts compares them.
*/}}
{{- define "tributary-hub.hubStreamConfig" -}}
{{- $s := .Values.hubStream -}}
{{- $sources := list -}}
{{- range .Values.global.tributary.regions -}}
{{- $sources = append $sources (dict "name" (include "tributary.streamName" .) "external" (dict "api" (printf "$JS.%s.API" .) "deliver" (printf "deliver.%s" .))) -}}
{{- end -}}
{{- toPrettyJson (dict
  "name" "EVENTS"
  "subjects" (list "replay.>")
  "retention" "limits"
  "storage" "file"
  "discard" "new"
  "max_bytes" (int64 $s.maxBytes)
  "max_age" (mul (int64 $s.maxAgeSeconds) 1000000000)
  "duplicate_window" 100000000
  "num_replicas" (int $s.replicas)
  "sources" $sources) -}}
{{- end -}}

{{- define "tributary-hub.dlqStreamConfig" -}}
{{- $s := .Values.dlqStream -}}
{{- toPrettyJson (dict
  "name" "EVENTS_DLQ"
  "subjects" (list "dlq.>")
  "retention" "limits"
  "storage" "file"
  "discard" "old"
  "max_bytes" (int64 $s.maxBytes)
  "max_age" (mul (int64 $s.maxAgeSeconds) 1000000000)
  "num_replicas" (int $s.replicas)) -}}
{{- end -}}
