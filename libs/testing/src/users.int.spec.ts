import { Module } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  CommandType,
  CurrentUser,
  ForbiddenError,
  RequiresRole,
  UnauthenticatedError,
  type ICommandHandler,
  type User,
} from '@chronicle/core';
import { TestFixture, type FixtureMode } from './index.js';

// Sending as a user from a scenario, embedded and over NATS: the role checks
// and what a handler reads of its user are tested like any outcome.

@CommandType('vault.Open')
class OpenVault extends Command<string> {
  constructor(readonly vaultId: string) {
    super();
  }
}

@RequiresRole('admin')
@CommandHandler(OpenVault)
class OpenVaultHandler implements ICommandHandler<OpenVault> {
  constructor(private readonly currentUser: CurrentUser) {}

  async execute({ vaultId }: OpenVault): Promise<string> {
    return `${vaultId} opened by ${this.currentUser.require().id}`;
  }
}

@Module({ providers: [OpenVaultHandler] })
class VaultModule {}

const ann: User = { id: 'ann', roles: ['admin'] };
const eve: User = { id: 'eve', roles: ['guest'] };

describe.each<FixtureMode>(['embedded', 'integration'])(
  'scenarios as a user (%s)',
  (mode) => {
    let fixture: TestFixture;
    beforeAll(async () => {
      fixture = await TestFixture.create({
        imports: [VaultModule],
        mode,
        chronicle: { security: { requireUser: true } },
      });
    }, 60_000);
    afterAll(() => fixture.close());

    it('sends the action as the user: allowed with the role, refused without', async () => {
      await fixture
        .as(ann)
        .when(new OpenVault('v-1'))
        .expectResult('v-1 opened by ann');
      await fixture
        .as(eve)
        .when(new OpenVault('v-2'))
        .expectError(ForbiddenError, {
          userId: 'eve',
          requiredRoles: ['admin'],
        });
      await fixture
        .when(new OpenVault('v-3'))
        .expectError(UnauthenticatedError, 'needs a user');
    });
  },
);
