{{/*
The hub's NATS topology, rendered inside the official NATS chart through its `$tplYaml` values
(these templates see the NATS chart's context: .Values is the `nats:` block plus `global`).
What they write mirrors packages/streams (server-config.ts, permissions.ts, names.ts);
deploy/helm/test/topology.int.test.ts compares the rendered config with that code and runs it.
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
{{- $consumer := printf "EVENTS.%s" .Values.global.tributary.durable -}}
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
              - "$JS.API.STREAM.INFO.EVENTS_DLQ"
              - {{ printf "$JS.API.CONSUMER.INFO.%s" $consumer | quote }}
              - {{ printf "$JS.API.CONSUMER.CREATE.%s" $consumer | quote }}
              - {{ printf "$JS.API.CONSUMER.CREATE.%s.>" $consumer | quote }}
              - {{ printf "$JS.API.CONSUMER.DURABLE.CREATE.%s" $consumer | quote }}
              - {{ printf "$JS.API.CONSUMER.MSG.NEXT.%s" $consumer | quote }}
              - {{ printf "$JS.ACK.%s.>" $consumer | quote }}
              - "dlq.>"
              # its durable on DELIVERIES: the delivery log (apps/delivery) loaded into the warehouse
              - "$JS.API.STREAM.INFO.DELIVERIES"
              - "$JS.API.CONSUMER.INFO.DELIVERIES.deliveries-loader"
              - "$JS.API.CONSUMER.CREATE.DELIVERIES.deliveries-loader"
              - "$JS.API.CONSUMER.CREATE.DELIVERIES.deliveries-loader.>"
              - "$JS.API.CONSUMER.DURABLE.CREATE.DELIVERIES.deliveries-loader"
              - "$JS.API.CONSUMER.MSG.NEXT.DELIVERIES.deliveries-loader"
              - "$JS.ACK.DELIVERIES.deliveries-loader.>"
          subscribe:
            allow: ["_INBOX.>"]
      {{- range .Values.global.tributary.regions }}
      {{- $stream := include "tributary.streamName" . }}
      # The region's leafnode link: only its own stream's sourcing traffic (nats-server swaps
      # publish and subscribe for leaf connections; see packages/streams permissions.ts).
      - user: {{ printf "leaf-%s" . | quote }}
        password: {{ printf "<< $%s >>" (include "tributary.leafPasswordVar" .) | quote }}
        allowed_connection_types: [LEAFNODE]
        permissions:
          publish:
            allow: ["$JSC.R.*", {{ printf "deliver.%s.>" . | quote }}]
          subscribe:
            allow:
              - {{ printf "$JS.%s.API.CONSUMER.CREATE.%s" . $stream | quote }}
              - {{ printf "$JS.%s.API.CONSUMER.CREATE.%s.>" . $stream | quote }}
              - {{ printf "$JS.FC.%s.>" $stream | quote }}
      {{- end }}
{{- end -}}

{{- define "tributary.streamName" -}}
{{- printf "EVENTS_%s" (. | upper | replace "-" "_") -}}
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

