/**
 * The path family of the machine the core runs on (src-shared/paths.ts): Windows rules on
 * Windows (drive letters, UNC, case-insensitive), POSIX rules everywhere else.
 */
import { styleOfPlatform, type PathStyle } from '../../../../src-shared/paths.js';

export const HOST_PATH_STYLE: PathStyle = styleOfPlatform(process.platform);
