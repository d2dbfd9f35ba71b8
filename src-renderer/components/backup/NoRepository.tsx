/** What a screen that works on a repository shows while none is connected: where to get one. */
export function NoRepository({ title, onOpenRepositories }: { title: string; onOpenRepositories: () => void }) {
  return (
    <div className="stack wide">
      <h1>{title}</h1>
      <p className="notice">
        No repository is connected.{' '}
        <button type="button" className="link" onClick={onOpenRepositories}>
          Go to Repositories
        </button>
      </p>
    </div>
  );
}
