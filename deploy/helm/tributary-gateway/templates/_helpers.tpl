{{/* Names and labels. */}}
{{- define "tributary-gateway.name" -}}tributary-gateway{{- end -}}

{{- define "tributary-gateway.fullname" -}}
{{- printf "%s-gateway" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary-gateway.labels" -}}
app.kubernetes.io/name: {{ include "tributary-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tributary
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
tributary.dev/region: {{ .Values.global.tributary.region }}
{{- end -}}

{{- define "tributary-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tributary-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tributary-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The NATS service of this release (the official chart names it after the release), over TLS when its client port has it. */}}
{{- define "tributary-gateway.natsUrls" -}}
{{- if .Values.gateway.natsServers -}}
{{- .Values.gateway.natsServers | toJson -}}
{{- else -}}
{{- list (printf "%s://%s-nats:%v" (ternary "tls" "nats" (eq (include "tributary-gateway.natsTls" .) "true")) .Release.Name .Values.nats.config.nats.port) | toJson -}}
{{- end -}}
{{- end -}}

{{/*
Whether this release's NATS client port runs TLS: then the pods that connect to it (the gateway,
the provisioning Job) trust the CA of its certificate (ca.crt of the same Secret) through
NODE_EXTRA_CA_CERTS, which Node adds to its trusted CAs; the apps' tls:// URL makes them refuse a
server without TLS.
*/}}
{{- define "tributary-gateway.natsTls" -}}
{{- if and .Values.nats.enabled .Values.nats.config.nats.tls.enabled -}}true{{- end -}}
{{- end -}}

{{- define "tributary-gateway.natsCaEnv" -}}
{{- if eq (include "tributary-gateway.natsTls" .) "true" }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/tributary/nats-ca/ca.crt
{{- end }}
{{- end -}}

{{- define "tributary-gateway.natsCaMount" -}}
{{- if eq (include "tributary-gateway.natsTls" .) "true" }}
- name: nats-ca
  mountPath: /etc/tributary/nats-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tributary-gateway.natsCaVolume" -}}
{{- if eq (include "tributary-gateway.natsTls" .) "true" }}
- name: nats-ca
  secret:
    secretName: {{ .Values.nats.config.nats.tls.secretName | quote }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}

{{/* The gateway's config file (apps/gateway/src/config.ts): no secret in it, only file paths. */}}
{{- define "tributary-gateway.config" -}}
{{- $g := .Values.gateway -}}
{{- $config := dict
  "region" .Values.global.tributary.region
  "host" "0.0.0.0"
  "port" (int $g.port)
  "opsHost" "0.0.0.0"
  "opsPort" (int $g.opsPort)
  "logLevel" $g.logLevel
  "nats" (dict "servers" (include "tributary-gateway.natsUrls" . | fromJsonArray) "user" (include "tributary.gatewayUser" .Values.global.tributary.region) "publishTimeoutMs" (int $g.publishTimeoutMs))
  "stream" (dict "manage" false "maxBytes" (int64 .Values.stream.maxBytes) "maxAgeSeconds" (int64 .Values.stream.maxAgeSeconds) "duplicateWindowSeconds" (int64 .Values.stream.duplicateWindowSeconds) "replicas" (int .Values.stream.replicas))
  "admission" (dict "maxInFlightPublishes" (int $g.maxInFlightPublishes))
  "sources" (.Values.sources | default dict)
-}}
{{- if (include "tributary-gateway.controlEnabled" .) -}}
{{- $_ := set $config "control" (dict "enabled" true) -}}
{{- else if not .Values.sources -}}
{{- fail "sources is empty: configure at least one source, or turn global.tributary.control.enabled on and manage them through the hub's management API" -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Whether the control plane is on (global.tributary.control.enabled): "true" or empty. */}}
{{- define "tributary-gateway.controlEnabled" -}}
{{- if (.Values.global.tributary.control | default dict).enabled -}}true{{- end -}}
{{- end -}}

{{/*
The sealing keys (TRIBUTARY_SEALING_KEYS, packages/control SealingKeys) from their Secret, with
control: the gateway opens the source secrets of the control bucket's records with them.
*/}}
{{- define "tributary-gateway.sealingKeysEnv" -}}
{{- if (include "tributary-gateway.controlEnabled" .) }}
- name: TRIBUTARY_SEALING_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ required "control.sealingKeys.existingSecret must name the Secret holding the sealing keys (the hub's, copied into this region) when global.tributary.control.enabled is on" .Values.control.sealingKeys.existingSecret | quote }}
      key: {{ .Values.control.sealingKeys.key | quote }}
{{- end }}
{{- end -}}

{{/*
The region's mirror of the hub's control bucket, as @tributary/control's
ControlStore.regionMirror asks nats-server for it (@nats-io/kv's bucket with
regionMirrorOptions): the bucket's stream KV_tributary_control without subjects, mirroring the
hub's through the hub domain's API (`$JS.hub.API`), delivered to the region's own prefix
`deliver.control.<region>` (the only one the hub exports to this region's link), 10 revisions per
key. test/charts.test.ts compares the two.
*/}}
{{- define "tributary-gateway.controlMirrorStreamConfig" -}}
{{- $region := .Values.global.tributary.region -}}
{{- toPrettyJson (dict
  "name" "KV_tributary_control"
  "retention" "limits"
  "max_msgs_per_subject" 10
  "max_bytes" -1
  "max_msg_size" -1
  "storage" "file"
  "mirror" (dict "name" "KV_tributary_control" "external" (dict "api" "$JS.hub.API" "deliver" (printf "deliver.control.%s" $region)))
  "mirror_direct" true
  "discard" "new"
  "allow_direct" true
  "num_replicas" (int .Values.stream.replicas)
  "allow_rollup_hdrs" true) -}}
{{- end -}}

{{/* Pod and container hardening shared by every pod of the chart. */}}
{{- define "tributary-gateway.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/*
The regional stream, as regionalStreamConfig (packages/streams/src/stream-config.ts) builds it;
durations in nanoseconds as JetStream takes them. test/charts.test.ts compares the two.
*/}}
{{- define "tributary-gateway.streamConfig" -}}
{{- $region := .Values.global.tributary.region -}}
{{- $s := .Values.stream -}}
{{- $config := dict
  "name" (include "tributary.streamName" $region)
  "subjects" (list (printf "events.%s.>" $region))
  "retention" "limits"
  "storage" "file"
  "discard" "new"
  "max_bytes" (int64 $s.maxBytes)
  "max_age" (mul (int64 $s.maxAgeSeconds) 1000000000)
  "duplicate_window" (mul (int64 $s.duplicateWindowSeconds) 1000000000)
  "max_msg_size" (add 1048576 65536)
  "num_replicas" (int $s.replicas)
-}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/*
The durable consumer `hub-source` on the regional stream, through which the hub's EVENTS sources
this region (durable sourcing): as hubSourceConsumerConfig (packages/streams/src/stream-config.ts)
builds it, wrapped as JetStream's consumer create request. The region keeps the position, so a
restarted hub resumes where it stopped within seconds. nats-server requires this shape: push to the
region's deliver subject, `flow_control` acks with flow control on, 1 s heartbeats; at most
20,000 messages in flight before the region waits for the hub's flow-control answer. It sends only
the region's own subjects, even from a stream that holds more.
*/}}
{{- define "tributary-gateway.hubSourceConsumerConfig" -}}
{{- $region := .Values.global.tributary.region -}}
{{- toPrettyJson (dict
  "stream_name" (include "tributary.streamName" $region)
  "config" (dict
    "durable_name" "hub-source"
    "deliver_subject" (printf "deliver.%s.hub-source" $region)
    "filter_subject" (printf "events.%s.>" $region)
    "deliver_policy" "all"
    "ack_policy" "flow_control"
    "flow_control" true
    "idle_heartbeat" 1000000000
    "max_ack_pending" 20000)) -}}
{{- end -}}

{{/* The NATS chart's pod labels of this release's servers (its StatefulSet's selector). */}}
{{- define "tributary-gateway.natsSelectorLabels" -}}
app.kubernetes.io/name: nats
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end -}}
