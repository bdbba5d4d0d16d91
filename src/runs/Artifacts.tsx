import React, { useEffect, useState } from 'react';

import { IArtifactInfo, IPlotlyFigure } from '../api';
import { PlotlyChart } from '../compare/PlotlyChart';
import { IFraudJlabService } from '../tokens';
import { formatBytes } from './format';

/** How an artifact is shown (mirrors fraud_jlab.browse.artifacts.artifact_kind). */
export type ArtifactKind = 'image' | 'json' | 'yaml' | 'text' | 'binary';

const IMAGE = ['.png', '.jpg', '.jpeg', '.gif', '.webp', '.svg'];
const TEXT = [
  '.txt',
  '.log',
  '.csv',
  '.tsv',
  '.md',
  '.py',
  '.sql',
  '.ini',
  '.cfg',
  '.toml',
  '.xml'
];

/** Characters of a text artifact shown inline; download for the rest. */
export const MAX_PREVIEW_CHARS = 200_000;

export function artifactKind(path: string): ArtifactKind {
  const dot = path.lastIndexOf('.');
  const suffix = dot < 0 ? '' : path.slice(dot).toLowerCase();
  if (IMAGE.includes(suffix)) {
    return 'image';
  }
  if (suffix === '.json') {
    return 'json';
  }
  if (suffix === '.yaml' || suffix === '.yml') {
    return 'yaml';
  }
  return TEXT.includes(suffix) ? 'text' : 'binary';
}

function isFigure(value: unknown): value is IPlotlyFigure {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { data?: unknown }).data) &&
    typeof (value as { layout?: unknown }).layout === 'object'
  );
}

type Preview =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'image'; url: string }
  | { kind: 'figure'; figure: IPlotlyFigure }
  | { kind: 'text'; text: string; truncated: boolean };

function ArtifactPreview(props: {
  service: IFraudJlabService;
  runId: string;
  artifact: IArtifactInfo;
}): JSX.Element {
  const { service, runId, artifact } = props;
  const [preview, setPreview] = useState<Preview>({ kind: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    let url: string | null = null;
    const kind = artifactKind(artifact.path);
    service
      .fetchArtifact(runId, artifact.path, controller.signal)
      .then(async blob => {
        if (kind === 'image') {
          url = URL.createObjectURL(blob);
          setPreview({ kind: 'image', url });
          return;
        }
        const text = await blob.text();
        if (kind === 'json') {
          try {
            const parsed: unknown = JSON.parse(text);
            if (isFigure(parsed)) {
              setPreview({ kind: 'figure', figure: parsed });
              return;
            }
            const pretty = JSON.stringify(parsed, null, 2);
            setPreview({
              kind: 'text',
              text: pretty.slice(0, MAX_PREVIEW_CHARS),
              truncated: pretty.length > MAX_PREVIEW_CHARS
            });
            return;
          } catch {
            // not valid JSON: shown as text
          }
        }
        setPreview({
          kind: 'text',
          text: text.slice(0, MAX_PREVIEW_CHARS),
          truncated: text.length > MAX_PREVIEW_CHARS
        });
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) {
          setPreview({
            kind: 'error',
            message: error instanceof Error ? error.message : String(error)
          });
        }
      });
    return () => {
      controller.abort();
      if (url) {
        URL.revokeObjectURL(url);
      }
    };
  }, [service, runId, artifact.path]);

  const label = `Artifact ${artifact.path}`;
  switch (preview.kind) {
    case 'loading':
      return (
        <p className="jp-FraudJlab-muted" aria-live="polite">
          Loading {artifact.path}…
        </p>
      );
    case 'error':
      return (
        <p className="jp-FraudJlab-error" role="alert">
          {preview.message}
        </p>
      );
    case 'image':
      return (
        <img
          className="jp-FraudJlab-artifactImage"
          src={preview.url}
          alt={label}
        />
      );
    case 'figure':
      return <PlotlyChart label={label} figure={preview.figure} />;
    case 'text':
      return (
        <div>
          <pre className="jp-FraudJlab-artifactText" aria-label={label}>
            {preview.text}
          </pre>
          {preview.truncated ? (
            <p className="jp-FraudJlab-muted">
              Showing the first {MAX_PREVIEW_CHARS.toLocaleString('en-US')}{' '}
              characters; download the file for the rest.
            </p>
          ) : null}
        </div>
      );
  }
}

async function download(
  service: IFraudJlabService,
  runId: string,
  path: string
): Promise<void> {
  const blob = await service.fetchArtifact(runId, path);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = path.split('/').pop() || 'artifact';
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The run's artifacts: View for figures, images, JSON, YAML and text; Download for all. */
export function ArtifactsSection(props: {
  service: IFraudJlabService;
  runId: string;
  artifacts: IArtifactInfo[];
  downloads: boolean;
}): JSX.Element {
  const { service, runId, artifacts, downloads } = props;
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (artifacts.length === 0) {
    return <p className="jp-FraudJlab-muted">No artifacts.</p>;
  }
  const opened = artifacts.find(a => a.path === open) ?? null;
  return (
    <>
      <table className="jp-FraudJlab-kv" aria-label="Artifacts">
        <tbody>
          {artifacts.map(artifact => {
            const kind = artifactKind(artifact.path);
            return (
              <tr key={artifact.path}>
                <th scope="row" title={`sha256 ${artifact.sha256}`}>
                  {artifact.path}
                </th>
                <td className="jp-FraudJlab-artifactActions">
                  <span className="jp-FraudJlab-muted">
                    {formatBytes(artifact.size_bytes)} ·{' '}
                    {artifact.is_output ? 'output' : 'input'}
                  </span>{' '}
                  {kind !== 'binary' ? (
                    <button
                      className="jp-FraudJlab-link"
                      aria-pressed={open === artifact.path}
                      aria-label={`View ${artifact.path}`}
                      onClick={() =>
                        setOpen(open === artifact.path ? null : artifact.path)
                      }
                    >
                      View
                    </button>
                  ) : null}{' '}
                  {downloads ? (
                    <button
                      className="jp-FraudJlab-link"
                      aria-label={`Download ${artifact.path}`}
                      onClick={() => {
                        setError(null);
                        download(service, runId, artifact.path).catch(
                          (reason: unknown) =>
                            setError(
                              reason instanceof Error
                                ? reason.message
                                : String(reason)
                            )
                        );
                      }}
                    >
                      Download
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {error !== null ? (
        <p className="jp-FraudJlab-error" role="alert">
          {error}
        </p>
      ) : null}
      {opened !== null ? (
        <section
          className="jp-FraudJlab-artifactPreview"
          aria-label={`Preview of ${opened.path}`}
        >
          <ArtifactPreview service={service} runId={runId} artifact={opened} />
        </section>
      ) : null}
    </>
  );
}
