/** The small schemas the backup contract's files share (contract-backup.ts, contract-repositories.ts, repository-location.ts). */
import { z } from 'zod';
import { absolutePathProblem, isAbsoluteInEitherStyle } from './paths.js';

/**
 * A full path of either family (src-shared/paths.ts): the contract does not know the machine,
 * so the core checks again that the path is of its own family.
 */
export const AbsolutePathSchema = z
  .string()
  .min(1, 'Enter a folder.')
  .max(4096, 'That path is too long.')
  .superRefine((p, ctx) => {
    if (isAbsoluteInEitherStyle(p)) return;
    // The reason of the family the path looks like it was meant for.
    const style = /^[A-Za-z]:|^\\\\/.test(p) ? 'win32' : 'posix';
    const posixOnly = style === 'posix' && !p.startsWith('/');
    ctx.addIssue({
      code: 'custom',
      message: posixOnly ? 'Use a full path, such as /home/you/Documents or C:\\Users\\you\\Documents.' : (absolutePathProblem(p, style) ?? 'Use a full path.'),
    });
  });
export const NameSchema = z
  .string()
  .trim()
  .min(1, 'Give it a name.')
  .max(60, 'Names are limited to 60 characters.')
  .regex(/^[^\p{Cc}]+$/u, 'Names cannot contain control characters.');
export const IdSchema = z.string().uuid('That is not a valid id.');
export const RepoPasswordSchema = z.string().min(1, 'Enter the repository password.').max(1024);
