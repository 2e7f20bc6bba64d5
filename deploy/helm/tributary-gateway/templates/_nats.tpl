{{/*
The region's NATS topology, rendered inside the official NATS chart through its `$tplYaml` values
(so these templates see the NATS chart's context: .Values is the `nats:` block plus `global`).
What they write mirrors packages/streams (server-config.ts, permissions.ts, names.ts):
deploy/helm/test/charts.test.ts compares the rendered config with that code, and
topology.int.test.ts runs it as a region and the hub.
*/}}

{{- define "tributary.streamName" -}}
{{- printf "EVENTS_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{- define "tributary.gatewayUser" -}}
{{- printf "gateway-%s" . -}}
{{- end -}}

{{- define "tributary.natsJetStream" -}}
{{- with .Values.global.tributary }}
domain: {{ .region | quote }}
{{- if .syncInterval }}
sync_interval: {{ .syncInterval | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "tributary.natsRegionConfig" -}}
{{- $region := .Values.global.tributary.region -}}
{{- $stream := include "tributary.streamName" $region -}}
{{- $user := include "tributary.gatewayUser" $region -}}
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
      - user: {{ $user | quote }}
        password: "<< $GATEWAY_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        # Its region's events and its stream's info; and its region's mirror of the control bucket,
        # read and watched, as sources change at runtime (packages/streams gatewayPermissions).
        permissions:
          publish:
            allow:
              - {{ printf "events.%s.>" $region | quote }}
              - {{ printf "$JS.API.STREAM.INFO.%s" $stream | quote }}
              {{- include "tributary.controlReadPermissions" . | nindent 14 }}
          subscribe:
            # Its own replies only (packages/streams inboxPermission; connectNats sets the prefix).
            allow: [{{ printf "_INBOX_%s.>" $user | quote }}]
leafnodes:
  remotes:
    - url: "<< $HUB_LEAFNODE_URL >>"
      account: TRIBUTARY
      {{- if not .Values.insecure.allowPlaintextLeafnodes }}
      # TLS whatever the URL's scheme: the hub's certificate checked against the CA of tlsCA, or
      # against the system's CAs without one.
      tls:
        {{- if and .Values.tlsCA.enabled (or .Values.tlsCA.configMapName .Values.tlsCA.secretName) }}
        ca_file: {{ printf "%s/%s" .Values.tlsCA.dir .Values.tlsCA.key | quote }}
        {{- else }}
        {}
        {{- end }}
      {{- end }}
{{- end -}}

{{/*
Reading the control bucket's stream KV_tributary_control (packages/streams controlReadPermissions):
its stream info, direct gets, and watching it through an ordered consumer of its own. A YAML list.
In a region the stream is the region's mirror of the hub's bucket.
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
