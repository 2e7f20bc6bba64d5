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
accounts:
  TRIBUTARY:
    jetstream: enabled
    users:
      - user: admin
        password: "<< $ADMIN_PASSWORD >>"
        allowed_connection_types: [STANDARD]
      - user: {{ include "tributary.gatewayUser" $region | quote }}
        password: "<< $GATEWAY_PASSWORD >>"
        allowed_connection_types: [STANDARD]
        permissions:
          publish:
            allow: [{{ printf "events.%s.>" $region | quote }}, {{ printf "$JS.API.STREAM.INFO.%s" $stream | quote }}]
          subscribe:
            allow: ["_INBOX.>"]
leafnodes:
  remotes:
    - url: "<< $HUB_LEAFNODE_URL >>"
      account: TRIBUTARY
      {{- if and .Values.tlsCA.enabled (or .Values.tlsCA.configMapName .Values.tlsCA.secretName) }}
      tls:
        ca_file: {{ printf "%s/%s" .Values.tlsCA.dir .Values.tlsCA.key | quote }}
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
